#!/usr/bin/env bash
# One lent GPU's measurements, as one script (a lease is short): the device, the network-epoch throughput of the
# single-job trainer against the batched one (its LSTM cell as written and compiled) and of their inference passes
# (benchmarks/batched_speed.py), then the study's grid at the paper preset
# (benchmarks/gpu.py; the baseline, the smoothed control and L + w, seed after seed) until GRID_END seconds after
# the start. Each job's file is written when it stops, so the grid stopped at that time keeps what it finished;
# it comes back as OUT/run.tgz and resumes anywhere.
#
#   benchmarks/gpu_check.sh DATASET OUT GRID_END      # DATASET: written by benchmarks/gpu.py --pack
#
# DEVICE (default cuda), PRESET (default paper) and PYTHON (default python3) change the machine, the network and
# the interpreter, for a smoke run on a CPU: DEVICE=cpu PRESET=quick benchmarks/gpu_check.sh tiny.npz /tmp/o 60
set -u
data=$1 out=$2 grid_end=$3
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1 TQDM_MININTERVAL=30 PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # run from the repository root
mkdir -p "$out"
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; nproc
  $py -c "import torch, numpy, pandas; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), 'numpy', numpy.__version__, 'pandas', pandas.__version__)"
} > "$out/device.txt" 2>&1
cat "$out/device.txt"
nvidia-smi --query-gpu=timestamp,utilization.gpu,memory.used --format=csv -l 5 > "$out/gpu_use.csv" 2>&1 &
smi=$!
timeout 260 $py benchmarks/batched_speed.py --device "${DEVICE:-cuda}" --preset "${PRESET:-paper}" --dataset "$data" \
    --k 16 64 --compile --epochs 1 --timeout 60 2>&1 | tee "$out/speed.txt"  # does the compiled cell pay?
timeout 60 $py benchmarks/batched_speed.py --device "${DEVICE:-cuda}" --preset "${PRESET:-paper}" --dataset "$data" \
    --pass infer --k 16 64 --epochs 2 --timeout 25 2>&1 | tee -a "$out/speed.txt"  # should stacked inference be on?
echo "throughput done at ${SECONDS} s"
setsid $py benchmarks/gpu.py --dataset "$data" --preset "${PRESET:-paper}" --conditions blstm_att smoothed L_w \
    --seeds 0 1 2 3 4 --n-jobs "$(nproc)" --out "$out/run" > "$out/grid.log" 2>&1 &
grid=$!
( sleep $((grid_end > SECONDS ? grid_end - SECONDS : 1)); echo "stopped at ${grid_end} s" >> "$out/grid.log"
  kill -TERM -- -$grid 2>/dev/null ) &
watchdog=$!
wait $grid
echo "grid exit $? at ${SECONDS} s" >> "$out/grid.log"
kill $watchdog $smi 2>/dev/null
sleep 2
tail -c 3000 "$out/grid.log"
echo "jobs finished: $(find "$out/run" -name '*.json.gz' 2>/dev/null | wc -l)"
tar czf "$out/run.tgz" -C "$out" run && rm -rf "$out/run"
echo "done at ${SECONDS} s"
