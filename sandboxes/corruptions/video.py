"""Video corruptions on uint8 frames (torch tensors T x H x W or T x H x W x C).

Every function returns a new tensor on the frames' device and leaves its input alone. Filters
use OpenCV's default border (BORDER_REFLECT_101) and OpenCV's integer rounding, so the MER blur
matches cv2.pyrDown / cv2.pyrUp exactly on uint8.
"""

from __future__ import annotations

import math

import torch

PYRAMID_KERNEL = (1.0, 4.0, 6.0, 4.0, 1.0)


def _planes(frames: torch.Tensor) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Frames as float64 planes N x H x W (N = T times channels), and the shape to go back."""
    if frames.dtype != torch.uint8 or frames.ndim not in (3, 4):
        raise ValueError(f"Frames are uint8 T x H x W or T x H x W x C; got {frames.dtype} {tuple(frames.shape)}.")
    if frames.ndim == 3:
        return frames.to(torch.float64), tuple(frames.shape)
    t, h, w, c = frames.shape
    return frames.permute(0, 3, 1, 2).reshape(t * c, h, w).to(torch.float64), tuple(frames.shape)


def _frames(planes: torch.Tensor, shape: tuple[int, ...]) -> torch.Tensor:
    """uint8 frames of `shape` from float64 planes holding whole numbers in 0..255."""
    planes = planes.clamp(0, 255).to(torch.uint8)
    if len(shape) == 3:
        return planes.reshape(shape)
    t, _, _, c = shape
    return planes.reshape(t, c, planes.shape[-2], planes.shape[-1]).permute(0, 2, 3, 1).contiguous()


def _reflect101(size: int, pad: int, device) -> torch.Tensor:
    """Indices of a line of `size` padded by `pad` on both sides with BORDER_REFLECT_101."""
    index = torch.arange(-pad, size + pad, device=device)
    if size == 1:
        return torch.zeros_like(index)
    period = 2 * (size - 1)
    index = index.remainder(period)
    return torch.where(index >= size, period - index, index)


def _filter(planes: torch.Tensor, kernel: tuple[float, ...] | torch.Tensor, dim: int) -> torch.Tensor:
    """Correlate along `dim` with an odd-length symmetric `kernel`, reflect-101 border."""
    size, pad = planes.shape[dim], len(kernel) // 2
    padded = planes.index_select(dim, _reflect101(size, pad, planes.device))
    out = torch.zeros_like(planes)
    for offset, weight in enumerate(kernel):
        out += float(weight) * padded.narrow(dim, offset, size)
    return out


def pyr_down(planes: torch.Tensor) -> torch.Tensor:
    """cv2.pyrDown on whole-number planes: 5x5 Gaussian, every other row and column, size
    ceil(n / 2), rounded as OpenCV does for uint8 ((sum + 128) >> 8)."""
    summed = _filter(_filter(planes, PYRAMID_KERNEL, -2), PYRAMID_KERNEL, -1)
    return torch.floor((summed[..., ::2, ::2] + 128.0) / 256.0)


def pyr_up(planes: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """cv2.pyrUp with dstsize (width, height): zeros inserted to twice the size, the 5x5
    Gaussian times 4, cropped, rounded ((sum + 32) >> 6)."""
    n, h, w = planes.shape
    if not (abs(height - 2 * h) <= height % 2 and abs(width - 2 * w) <= width % 2):
        raise ValueError(f"pyrUp cannot make {height} x {width} from {h} x {w}.")
    upsampled = planes.new_zeros(n, 2 * h, 2 * w)
    upsampled[:, ::2, ::2] = planes
    summed = _filter(_filter(upsampled, PYRAMID_KERNEL, -2), PYRAMID_KERNEL, -1)
    return torch.floor((summed[:, :height, :width] + 32.0) / 64.0)


def mer_blur(frames: torch.Tensor, rate: int) -> torch.Tensor:
    """MER 2023/2024 blur: pyrDown log2(rate) times, then pyrUp back through the same sizes.

    >>> frames = torch.tensor([[[0, 0, 255, 255]] * 4], dtype=torch.uint8)
    >>> mer_blur(frames, 2)[0, 0].tolist()
    [68, 104, 157, 175]
    """
    if rate < 1 or rate & (rate - 1):
        raise ValueError(f"The MER blur rate is a power of two; got {rate}.")
    planes, shape = _planes(frames)
    sizes = [tuple(planes.shape[-2:])]
    for _ in range(int(math.log2(rate))):
        planes = pyr_down(planes)
        sizes.append(tuple(planes.shape[-2:]))
    for height, width in reversed(sizes[:-1]):
        planes = pyr_up(planes, height, width)
    return _frames(planes, shape)


def gaussian_blur(frames: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur with standard deviation `sigma` pixels; kernel size as OpenCV picks it for
    uint8 (round(6 sigma + 1), made odd), reflect-101 border, rounded to the nearest level."""
    planes, shape = _planes(frames)
    radius = (int(round(sigma * 6 + 1)) | 1) // 2
    x = torch.arange(-radius, radius + 1, dtype=torch.float64, device=planes.device)
    kernel = torch.exp(-(x**2) / (2 * sigma * sigma))
    kernel = (kernel / kernel.sum()).tolist()
    return _frames(torch.floor(_filter(_filter(planes, kernel, -2), kernel, -1) + 0.5), shape)


# Annex K of the JPEG standard, as libjpeg uses them.
LUMA_TABLE = (
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
)
CHROMA_TABLE = (
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99, 47, 66, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
)


def quantisation_table(base: tuple[int, ...], quality: int) -> list[int]:
    """libjpeg's jpeg_set_quality: the base table scaled by quality, clamped to 1..255.

    >>> quantisation_table(LUMA_TABLE, 50) == list(LUMA_TABLE)
    True
    >>> quantisation_table(LUMA_TABLE, 90)[:4]
    [3, 2, 2, 3]
    """
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(max((q * scale + 50) // 100, 1), 255) for q in base]


def _dct_matrix(device) -> torch.Tensor:
    k = torch.arange(8, dtype=torch.float64, device=device)
    matrix = torch.cos((2 * k[None, :] + 1) * k[:, None] * math.pi / 16) * math.sqrt(2 / 8)
    matrix[0] /= math.sqrt(2)
    return matrix


def _jpeg_plane(planes: torch.Tensor, table: list[int]) -> torch.Tensor:
    """Round trip of level-shifted planes (N x H x W, multiples of 8) through the 8x8 DCT
    quantised by `table`; IDCT output rounded and clamped to 0..255 as libjpeg does."""
    n, h, w = planes.shape
    dct = _dct_matrix(planes.device)
    q = torch.tensor(table, dtype=torch.float64, device=planes.device).reshape(8, 8)
    blocks = (planes - 128.0).reshape(n, h // 8, 8, w // 8, 8).permute(0, 1, 3, 2, 4)
    coefficients = torch.round(dct @ blocks @ dct.T / q) * q
    pixels = dct.T @ coefficients @ dct
    pixels = pixels.permute(0, 1, 3, 2, 4).reshape(n, h, w)
    return torch.floor(pixels + 128.5).clamp(0, 255)


def jpeg(frames: torch.Tensor, quality: int) -> torch.Tensor:
    """The pixels of baseline JPEG at `quality` without chroma subsampling (4:4:4): RGB to
    YCbCr (JFIF), 8x8 DCT, libjpeg's quality-scaled tables, and back. Grayscale frames use the
    luma table only. Entropy coding is lossless, so no encoder is needed."""
    if frames.dtype != torch.uint8 or frames.ndim not in (3, 4):
        raise ValueError(f"Frames are uint8 T x H x W or T x H x W x C; got {frames.dtype} {tuple(frames.shape)}.")
    t, h, w = frames.shape[:3]
    colour = frames.ndim == 4 and frames.shape[3] == 3
    pixels = frames.to(torch.float64)
    if frames.ndim == 3:
        pixels = pixels[..., None]
    # libjpeg pads a partial block by repeating the last column and row.
    rows = torch.arange(-(-h // 8) * 8, device=frames.device).clamp(max=h - 1)
    cols = torch.arange(-(-w // 8) * 8, device=frames.device).clamp(max=w - 1)
    pixels = pixels.index_select(1, rows).index_select(2, cols)
    if colour:
        r, g, b = pixels.unbind(-1)
        y = 0.299 * r + 0.587 * g + 0.114 * b
        cb = -0.168735892 * r - 0.331264108 * g + 0.5 * b + 128
        cr = 0.5 * r - 0.418687589 * g - 0.081312411 * b + 128
        ycc = torch.floor(torch.stack([y, cb, cr], dim=1) + 0.5).clamp(0, 255)  # T x 3 x H' x W'
        luma = _jpeg_plane(ycc[:, 0], quantisation_table(LUMA_TABLE, quality))
        chroma_table = quantisation_table(CHROMA_TABLE, quality)
        cb = _jpeg_plane(ycc[:, 1], chroma_table) - 128
        cr = _jpeg_plane(ycc[:, 2], chroma_table) - 128
        rgb = torch.stack([luma + 1.402 * cr, luma - 0.344136286 * cb - 0.714136286 * cr, luma + 1.772 * cb], -1)
        out = torch.floor(rgb + 0.5).clamp(0, 255)
    else:
        channels = pixels.shape[-1]
        planes = pixels.permute(0, 3, 1, 2).reshape(t * channels, *pixels.shape[1:3])
        out = _jpeg_plane(planes, quantisation_table(LUMA_TABLE, quality))
        out = out.reshape(t, channels, *pixels.shape[1:3]).permute(0, 2, 3, 1)
    out = out[:, :h, :w].to(torch.uint8)
    return out[..., 0].contiguous() if frames.ndim == 3 else out.contiguous()


def occlude(frames: torch.Tensor, fraction: float, generator: torch.Generator) -> torch.Tensor:
    """A black square, its side `fraction` of the shorter image side (at least 1 pixel), at one
    place the generator picks, on every frame of the clip."""
    out = frames.clone()
    h, w = frames.shape[1:3]
    side = max(1, round(fraction * min(h, w)))
    top = int(torch.randint(h - side + 1, (1,), generator=generator))
    left = int(torch.randint(w - side + 1, (1,), generator=generator))
    out[:, top:top + side, left:left + side] = 0
    return out


def drop_frames(frames: torch.Tensor, probability: float, generator: torch.Generator) -> torch.Tensor:
    """Each frame after the first dropped with `probability` and replaced by the last frame
    kept, so the clip keeps its length and timing (a stalled stream)."""
    kept = torch.rand(frames.shape[0], generator=generator, dtype=torch.float64) >= probability
    kept[0] = True
    positions = torch.arange(frames.shape[0]) * kept
    source = torch.cummax(positions, dim=0).values
    return frames.index_select(0, source.to(frames.device))


def blank(frames: torch.Tensor) -> torch.Tensor:
    """Black frames of the same shape (modality dropout)."""
    return torch.zeros_like(frames)
