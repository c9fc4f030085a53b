"""Answers a question about an image: form fields `image` (a file) and `question` (text).

The network (a convolutional image encoder, a bag of hashed question words, a classifier over a
small answer vocabulary) has random, seeded weights: the answers are computed, not meaningful.
It stands for the transformers pipelines users serve this way.
"""

import io
import re
import zlib

import torch
from PIL import Image, UnidentifiedImageError

import switchyard

ANSWERS = ["yes", "no", "red", "green", "blue", "white", "black", "one", "two", "three",
           "a cat", "a dog", "a page of text", "a chart", "outdoors", "indoors"]
VOCABULARY = 4096  # hashed word buckets
SIZE = 128


class VisualQuestionAnswering:
    def setup(self, ctx):
        torch.manual_seed(0)
        self.device = torch.device(ctx.device)
        self.image_encoder = torch.nn.Sequential(
            torch.nn.Conv2d(3, 32, 5, stride=2), torch.nn.ReLU(),
            torch.nn.Conv2d(32, 64, 3, stride=2), torch.nn.ReLU(),
            torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten()).eval().to(self.device)
        self.words = torch.nn.EmbeddingBag(VOCABULARY, 64, mode="mean").eval().to(self.device)
        self.head = torch.nn.Linear(128, len(ANSWERS)).eval().to(self.device)

    def decode(self, request):
        question = request.form.get("question", "").strip()
        if not question:
            raise switchyard.InvalidInput("the form needs a `question` field")
        if "image" not in request.files:
            raise switchyard.InvalidInput("the form needs an `image` file")
        try:
            image = Image.open(io.BytesIO(request.files["image"].data)).convert("RGB")
        except (UnidentifiedImageError, OSError) as exc:
            raise switchyard.InvalidInput("not an image: %s" % exc) from None
        image = image.resize((SIZE, SIZE), Image.BILINEAR)
        pixels = torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8)
        pixels = pixels.view(SIZE, SIZE, 3).permute(2, 0, 1).float().div(255)
        words = re.findall(r"[a-z0-9']+", question.lower()) or ["?"]
        tokens = torch.tensor([zlib.crc32(w.encode()) % VOCABULARY for w in words])
        return question, pixels, tokens

    @torch.inference_mode()
    def predict(self, batch):
        questions, pixels, tokens = zip(*batch)
        offsets = torch.tensor([0] + [len(t) for t in tokens[:-1]]).cumsum(0)
        image = self.image_encoder(torch.stack(pixels).to(self.device))
        text = self.words(torch.cat(tokens).to(self.device), offsets.to(self.device))
        scores = self.head(torch.cat([image, text], dim=1)).softmax(dim=1)
        best, index = scores.max(dim=1)
        return [(q, ANSWERS[i], s) for q, i, s in zip(questions, index.tolist(), best.tolist())]

    def encode(self, output):
        question, answer, score = output
        return {"question": question, "answer": answer, "score": round(score, 6)}
