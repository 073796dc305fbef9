"""Debug aid: a PNG of log-mel spectrograms (dry on top, then dry+0.5*wet for each style)."""
import sys
import os
import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import eval as ev  # noqa: E402


def picture(signals, path):
    rows = []
    for x in signals:
        m = ev.logmel_db(x, hop=1024)[:, ::-1].T  # [64, frames], high freq on top
        m = np.clip((m + 90) / 70, 0, 1)
        rows.append((m * 255).astype(np.uint8))
        rows.append(np.full((2, m.shape[1]), 255, np.uint8))
    Image.fromarray(np.concatenate(rows)).resize((rows[0].shape[1] * 2, sum(r.shape[0] for r in rows) * 2)).save(path)
