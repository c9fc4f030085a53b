#!/usr/bin/env bash
# Manual check of the torch plugin on a GPU machine with pip's CUDA libtorch (CI has no GPU):
# builds the plugin stand-alone, makes the test models and the benchmark models, and runs them
# through torch_plugin_driver on CPU and on cuda:0, with and without CUDA graphs.
#   tests/unit/backends/torch/gpu_check.sh [WORK_DIR]     (default /tmp/torch-gpu-check)
# Prints a log; exits non-zero at the first failure.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
work=${1:-/tmp/torch-gpu-check}
mkdir -p "$work"
python=${PYTHON:-python3}
plugin=$work/build/backends/libswitchyard_backend_torch.so
driver=$work/torch_plugin_driver

echo "== versions"
$python -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name(0))'
g++ --version | head -1
cmake --version | head -1

echo "== stand-alone build"
start=$(date +%s)
cmake -S backends/torch -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCMAKE_PREFIX_PATH="$($python -c 'import torch;print(torch.utils.cmake_prefix_path)')" \
  | grep -E "torch backend|Error|error" || true
cmake --build "$work/build" -j"$(nproc)"
echo "build: $(( $(date +%s) - start )) s"
g++ -std=c++17 -O2 -Wall -Wextra -Werror -I include \
  tests/unit/backends/torch/torch_plugin_driver.cc -ldl -o "$driver"

echo "== test models"
$python tests/unit/backends/torch/make_test_models.py "$work/test_models"
add_sub=(--plugin "$plugin" --model-file "$work/test_models/add_sub.pt" --max-batch 8
         --input INPUT0:FP32:4 --input INPUT1:FP32:4 --output OUTPUT0:FP32:4
         --output OUTPUT1:FP32:4 --requests 3 --rows 2 --iterations 6 --check add_sub)
"$driver" "${add_sub[@]}" --gpus 0 --param intra_op_threads=4
"$driver" "${add_sub[@]}" --gpus 1
"$driver" "${add_sub[@]}" --gpus 1 --param cuda_graph_batch_sizes=1,8
# Inputs in page-locked shared memory, copied straight to the GPU (as in a worker).
"$driver" "${add_sub[@]}" --gpus 1 --shared-inputs 1
"$driver" "${add_sub[@]}" --gpus 1 --shared-inputs 1 --param cuda_graph_batch_sizes=1,8
"$driver" --plugin "$plugin" --model-file "$work/test_models/int64_ids.pt" --max-batch 4 \
  --gpus 1 --input ids:INT64:3 --output next:INT64:3 --output total:INT64:1 --requests 2 \
  --rows 2 --iterations 2

echo "== benchmark models"
$python bench/models/make_models.py "$work/repository"
cat "$work/repository/resnet50/config.yaml" "$work/repository/bert/config.yaml"
resnet=(--plugin "$plugin" --model-file "$work/repository/resnet50/1/model.pt" --max-batch 128
        --gpus 1 --input input:FP16:3,224,224 --output logits:FP16:1000 --rows 1)
bert=(--plugin "$plugin" --model-file "$work/repository/bert/1/model.pt" --max-batch 64
      --gpus 1 --input input_ids:INT64:128 --output pooled:FP16:768 --rows 1)
for requests in 1 32 128; do
  "$driver" "${resnet[@]}" --requests $requests --iterations 30
done
"$driver" "${resnet[@]}" --requests 30 --iterations 30 --param cuda_graph_batch_sizes=1,32,128
"$driver" "${resnet[@]}" --requests 32 --iterations 30 --param cuda_graph_batch_sizes=1,32,128
for requests in 1 64; do
  "$driver" "${bert[@]}" --requests $requests --iterations 30
done
"$driver" "${bert[@]}" --requests 64 --iterations 30 --param cuda_graph_batch_sizes=64
echo "== all passed"
