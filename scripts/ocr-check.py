"""How often off-the-shelf solvers read the captchas in a directory (files named ANSWER[_n].png).

Readers: ddddocr's two shipped models (the default and beta=True), each read three ways from one
inference: unrestricted, restricted with set_ranges to the alphabet (both cases), and the
probability output decoded with every class outside the alphabet masked out (the strongest use
of the restriction); and tesseract with the alphabet as whitelist in two page modes.
Variants of each image: as served, grayscale, 2x upscale, 3x3 median, Otsu threshold, the usual
chain of all four, and two colour separations (the dominant ink colour alone; saturated pixels
alone, which drops any grey ink); and beyond those, so that nothing is tuned to them alone: 5x5
median, Gaussian blur, 3x3 opening and closing, 3x upscale, the saturation and hue channels as
images, and a local (mean) threshold.

A captcha counts as broken when ANY reader reads ANY variant exactly (case-insensitive).
"""

import os
import subprocess
import sys
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from PIL import Image, ImageFilter

ALPHABET = os.environ.get("OCR_ALPHABET", "3679ACEFHKMNPRTWXY")
TESSERACT_MODES = ["7", "8"]


def otsu(gray):
    hist = np.bincount(np.asarray(gray).ravel(), minlength=256).astype(np.float64)
    total = hist.sum()
    levels = np.arange(256)
    w0 = np.cumsum(hist)
    m0 = np.cumsum(hist * levels)
    mean_all = m0[-1]
    w1 = total - w0
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mean_all * w0 / total - m0) ** 2 / (w0 * w1)
    between = np.nan_to_num(between)
    return int(np.argmax(between))


def threshold(gray):
    t = otsu(gray)
    return gray.point(lambda v: 255 if v > t else 0)


def local_threshold(gray, radius=7):
    """Each pixel against the mean of its neighbourhood: survives uneven backgrounds."""
    g = np.asarray(gray).astype(np.float64)
    mean = np.asarray(gray.filter(ImageFilter.BoxBlur(radius))).astype(np.float64)
    return Image.fromarray(np.where(g < mean - 8, 0, 255).astype(np.uint8))


def colour_masks(img):
    """Two colour separations, black ink on white."""
    rgb = np.asarray(img.convert("RGB")).astype(np.int32)
    flat = rgb.reshape(-1, 3)
    colours, counts = np.unique(flat, axis=0, return_counts=True)
    background = colours[np.argmax(counts)]
    dist_bg = np.abs(flat - background).sum(axis=1)
    inked = dist_bg > 60
    out = []
    # Dominant ink: quantise hues of the inked pixels, keep the most common hue bin.
    hsv = np.asarray(img.convert("RGB").convert("HSV")).reshape(-1, 3).astype(np.int32)
    hue_bin = hsv[:, 0] // 16
    if inked.any():
        dominant = np.bincount(hue_bin[inked], minlength=16).argmax()
        keep = inked & (hue_bin == dominant)
    else:
        keep = inked
    out.append(keep)
    # Saturated pixels: drops any grey (unsaturated) ink.
    out.append(inked & (hsv[:, 1] > 64))
    shape = rgb.shape[:2]
    return [Image.fromarray(np.where(m.reshape(shape), 0, 255).astype(np.uint8)) for m in out]


def variants(path):
    img = Image.open(path).convert("RGB")
    gray = img.convert("L")
    up = gray.resize((gray.width * 2, gray.height * 2), Image.BICUBIC)
    median = gray.filter(ImageFilter.MedianFilter(3))
    chain = threshold(up.filter(ImageFilter.MedianFilter(3)))
    dominant, saturated = colour_masks(img)
    hsv = img.convert("HSV")
    sat = hsv.getchannel("S").point(lambda v: 255 - v)
    blur = gray.filter(ImageFilter.GaussianBlur(1))
    out = {
        # Beyond the list, so that nothing is tuned to those alone: a wider median,
        # blur, morphological opening and closing (which remove thin lines of either
        # polarity), 3x upscale, the saturation and hue channels as images, and a local
        # threshold.
        "median5": gray.filter(ImageFilter.MedianFilter(5)),
        "blur": blur,
        "open3": gray.filter(ImageFilter.MinFilter(3)).filter(ImageFilter.MaxFilter(3)),
        "close3": gray.filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.MinFilter(3)),
        "up3": gray.resize((gray.width * 3, gray.height * 3), Image.BICUBIC),
        "saturation": sat,
        "hue": hsv.getchannel("H"),
        "local-threshold": local_threshold(gray),
        "served": img,
        "gray": gray,
        "up2": up,
        "median3": median,
        "otsu": threshold(gray),
        "chain": chain,
        "ink-dominant": dominant,
        "ink-saturated": saturated,
    }
    only = os.environ.get("OCR_VARIANTS")
    if only:
        out = {k: v for k, v in out.items() if k in only.split(",")}
    return out


def ctc(indices):
    out, prev = [], None
    for i in indices:
        if i != prev and i != 0:
            out.append(i)
        prev = i
    return out


class Dddd:
    """One ddddocr model, read three ways from each inference."""

    def __init__(self, name, **kwargs):
        import ddddocr

        self.name = name
        self.ocr = ddddocr.DdddOcr(show_ad=False, **kwargs)
        allowed = ALPHABET.upper() + ALPHABET.lower()
        self.ocr.set_ranges(allowed)
        charset = self.ocr.ocr_engine.get_charset()
        self.charset = charset
        self.mask = np.array([i == 0 or c in allowed for i, c in enumerate(charset)])

    def read(self, img):
        r = self.ocr.classification(img, probability=True)
        probs = np.asarray(r["probabilities"])
        probs = probs.reshape(-1, probs.shape[-1])
        plain = "".join(self.charset[i] for i in ctc(probs.argmax(axis=1)))
        masked = np.where(self.mask, probs, -1.0)
        restricted = "".join(self.charset[i] for i in ctc(masked.argmax(axis=1)))
        return {
            f"{self.name}": plain,
            f"{self.name}+set_ranges": r["text"],
            f"{self.name}+masked-probability": restricted,
        }


def tesseract(img, tmp):
    img.convert("L").save(tmp)
    got = {}
    for psm in TESSERACT_MODES:
        r = subprocess.run(
            ["tesseract", tmp, "stdout", "--psm", psm,
             "-c", "tessedit_char_whitelist=" + ALPHABET + ALPHABET.lower()],
            capture_output=True, text=True)
        got[f"tesseract-psm{psm}"] = "".join(r.stdout.split())
    return got


def main():
    src = sys.argv[1]
    files = sorted(f for f in os.listdir(src) if f.endswith((".png", ".jpg")))
    models = [Dddd("ddddocr-default"), Dddd("ddddocr-beta", beta=True)]
    # reads[(reader, variant)] = list of (answer, text)
    reads = defaultdict(list)

    def tess_job(args):
        i, name = args
        vs = variants(os.path.join(src, name))
        tmp = os.path.join(src, f".tess-{i}.png")
        out = {}
        for v in ("served", "chain"):
            for reader, text in tesseract(vs[v], tmp).items():
                out[(reader, v)] = text
        os.remove(tmp)
        return out

    answers = [f.split(".")[0].split("_")[0].upper() for f in files]
    for name, answer in zip(files, answers):
        for v, img in variants(os.path.join(src, name)).items():
            for m in models:
                for reader, text in m.read(img).items():
                    reads[(reader, v)].append((answer, text.upper()))
    if os.environ.get("OCR_NO_TESSERACT") != "1":
        with ThreadPoolExecutor(max_workers=2) as pool:
            for answer, out in zip(answers, pool.map(tess_job, enumerate(files))):
                for key, text in out.items():
                    reads[key].append((answer, text.upper()))

    n = len(files)
    broken = [False] * n
    best_chars = [0] * n
    tess_broken = [False] * n
    print(f"captchas: {n}")
    print(f"{'reader':<36} {'variant':<14} {'broken':>8} {'chars':>7}")
    for (reader, v), rows in sorted(reads.items()):
        hits = 0
        chars = 0
        for i, (answer, text) in enumerate(rows):
            right = sum(a == b for a, b in zip(answer, text))
            best_chars[i] = max(best_chars[i], right)
            chars += right
            if text == answer:
                hits += 1
                broken[i] = True
                if reader.startswith("tesseract"):
                    tess_broken[i] = True
        total_chars = sum(len(a) for a, _ in rows)
        print(f"{reader:<36} {v:<14} {100.0 * hits / n:7.2f}% {100.0 * chars / total_chars:6.1f}%")
    total_chars = sum(len(a) for a in answers)
    print(f"tesseract, any mode and variant: {sum(tess_broken)} of {n} = "
          f"{100.0 * sum(tess_broken) / n:.2f}%")
    print(f"BROKEN (any reader, any variant): {sum(broken)} of {n} = "
          f"{100.0 * sum(broken) / n:.2f}%")
    print(f"characters right in place (best reading per captcha): "
          f"{100.0 * sum(best_chars) / total_chars:.1f}%")
    if os.environ.get("OCR_SHOW"):
        for f, b in zip(files, broken):
            if b:
                print("  broken:", f)


if __name__ == "__main__":
    main()
