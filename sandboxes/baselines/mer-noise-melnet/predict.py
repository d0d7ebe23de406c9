"""MER-NOISE baseline: a small MLP over log-mel and face-frame statistics, trained when the
image was built (train.py).

Reads the clips under the input folder (`<key>.wav` and `<key>/*.png`, clean or corrupted) and
writes `name,discrete,valence` to the output file for every clip listed in
`test_inputs.csv` (column `name`), or for every clip found when there is no such list.

    python3 predict.py INPUT_DIR OUTPUT_CSV
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import torch
from features import EMOTIONS, MelNet, clip_features

MODEL = Path(__file__).with_name("model.pt")


def clip_names(folder: Path) -> list[str]:
    listed = folder / "test_inputs.csv"
    if listed.is_file():
        with listed.open(newline="", encoding="utf-8") as handle:
            return [row["name"] for row in csv.DictReader(handle)]
    keys = {path.stem for path in folder.glob("*.wav")} | {path.name for path in folder.iterdir() if path.is_dir()}
    return sorted(keys)


def main(input_dir: str, output_csv: str) -> int:
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)
    saved = torch.load(MODEL, weights_only=True)
    model = MelNet(saved["n_features"])
    model.load_state_dict(saved["state"])
    model.eval()
    folder = Path(input_dir)
    names = clip_names(folder)
    with torch.no_grad():
        logits, valence = model(torch.stack([clip_features(folder, name) for name in names]))
    with open(output_csv, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "discrete", "valence"])
        for name, label, value in zip(names, logits.argmax(1).tolist(), valence.tolist(), strict=True):
            writer.writerow([name, EMOTIONS[label], f"{value:.4f}"])
    print(f"wrote {len(names)} predictions to {output_csv}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
