"""Top classes of an image: `curl -F image=@cat.png .../v2/models/classify/predict`.

Eager PyTorch with torchvision's ResNet-18. The weights are random (seeded), so the answer is a
real forward pass but not a real prediction; load a state dict in `setup` to serve trained
weights.
"""

import io

import torch
import torchvision
from PIL import Image, UnidentifiedImageError

import switchyard

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)


class Classifier:
    def setup(self, ctx):
        torch.manual_seed(0)
        self.device = torch.device(ctx.device)
        self.top = int(ctx.parameters.get("top", 5))
        weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
        self.categories = weights.meta["categories"]  # part of torchvision: no download
        self.model = torchvision.models.resnet18(weights=None).eval().to(self.device)

    def decode(self, request):
        """The uploaded image (field `image`, or the raw body) as a normalised 224×224 tensor."""
        data = request.files["image"].data if "image" in request.files else request.body
        try:
            image = Image.open(io.BytesIO(data)).convert("RGB")
        except (UnidentifiedImageError, OSError) as exc:
            raise switchyard.InvalidInput("not an image: %s" % exc) from None
        image = image.resize((224, 224), Image.BILINEAR)
        pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
        pixels = pixels.view(224, 224, 3).permute(2, 0, 1).float().div(255)
        return (pixels - MEAN) / STD

    @torch.inference_mode()
    def predict(self, batch):
        logits = self.model(torch.stack(batch).to(self.device))
        scores, classes = logits.softmax(dim=1).topk(self.top, dim=1)
        return list(zip(scores.cpu().tolist(), classes.cpu().tolist()))

    def encode(self, output):
        scores, classes = output
        return {"top": [{"class": self.categories[c], "index": c, "score": round(s, 6)}
                        for s, c in zip(scores, classes)]}
