"""A training script that knows nothing of sparkexp: it prints its metrics as JSON lines."""

import json
import sys
import time

quality = float(sys.argv[1])
for step in range(1, 28):
    print(json.dumps({"step": step, "accuracy": quality * (1 - 0.5 ** step)}), flush=True)
    print(f"epoch {step} done")  # ordinary output stays ordinary
    time.sleep(0.02)
