"""numba kernels of :mod:`addiction_index.features.hrv_stream` (time domain, spline, chirp-z Welch).

Private: the public API, the method and the references are in ``hrv_stream``'s docstring.
Every kernel works in preallocated arrays; none allocates.
"""

from __future__ import annotations

import numpy as np

from addiction_index.features._jit import jit

# istate slots
I_COUNT, I_POS, I_HELD, I_NN50, I_SINCE = 0, 1, 2, 3, 4
# fstate slots
F_ANCHOR, F_S1, F_S2, F_SD2, F_SUM = 0, 1, 2, 3, 4
# unsigned loop indices: no negative-index wraparound test, so LLVM vectorises offset loops
_U = np.uint64
_LONG_SPAN = 32  # FFT spans from which the butterflies run along contiguous k


# ---------------------------------------------------------------- time domain (running sums)
@jit
def _reanchor(ring, n_beats, fstate, istate):
    """Recompute every running sum exactly from the held beats (bounds floating-point drift)."""
    held = istate[I_HELD]
    start = (istate[I_POS] - held) % n_beats
    total = 0.0
    for i in range(held):
        total += ring[start + i]
    anchor = total / held
    s1, s2, sd2 = 0.0, 0.0, 0.0
    for i in range(held):
        d = ring[start + i] - anchor
        s1 += d
        s2 += d * d
        if i > 0:
            e = ring[start + i] - ring[start + i - 1]
            sd2 += e * e
    fstate[F_ANCHOR], fstate[F_S1], fstate[F_S2] = anchor, s1, s2
    fstate[F_SD2], fstate[F_SUM] = sd2, total
    istate[I_SINCE] = 0


@jit
def _push_one(rr, ring, n_beats, fstate, istate):
    """Append one RR (ms) to the double-written ring and update the running sums in O(1)."""
    pos, held = istate[I_POS], istate[I_HELD]
    anchor = fstate[F_ANCHOR]
    if held == n_beats:  # drop the oldest beat (and its difference to the next one)
        old = ring[pos]
        nxt = ring[pos + 1]
        fstate[F_S1] -= old - anchor
        fstate[F_S2] -= (old - anchor) * (old - anchor)
        fstate[F_SUM] -= old
        e = nxt - old
        fstate[F_SD2] -= e * e
        if abs(e) > 50.0:
            istate[I_NN50] -= 1
        held -= 1
    if held > 0:
        e = rr - ring[(pos - 1) % n_beats]
        fstate[F_SD2] += e * e
        if abs(e) > 50.0:
            istate[I_NN50] += 1
    ring[pos] = rr
    ring[pos + n_beats] = rr
    fstate[F_S1] += rr - anchor
    fstate[F_S2] += (rr - anchor) * (rr - anchor)
    fstate[F_SUM] += rr
    istate[I_POS] = (pos + 1) % n_beats
    istate[I_HELD] = held + 1
    istate[I_COUNT] += 1
    istate[I_SINCE] += 1
    if istate[I_SINCE] >= n_beats or held == 0:
        _reanchor(ring, n_beats, fstate, istate)


@jit
def _time_values(fstate, istate, min_s, out):
    """MeanNN, SDNN, RMSSD (ms), pNN50 (%), MeanHR (bpm) of the held beats into ``out[:5]``."""
    n = istate[I_HELD]
    if n < 2 or fstate[F_SUM] / 1000.0 < min_s:
        out[:5] = np.nan
        return
    s1, s2 = fstate[F_S1], fstate[F_S2]
    mean = fstate[F_ANCHOR] + s1 / n
    var = (s2 - s1 * s1 / n) / (n - 1)
    out[0] = mean
    out[1] = np.sqrt(max(var, 0.0))
    out[2] = np.sqrt(max(fstate[F_SD2], 0.0) / (n - 1))
    out[3] = istate[I_NN50] / n * 100.0
    out[4] = 60000.0 / mean


@jit
def _push_many(rrs, ring, n_beats, fstate, istate, min_s, out_time):
    """Push every RR of ``rrs`` in order; with ``out_time.shape[0] == len(rrs)`` also record."""
    record = out_time.shape[0] == rrs.shape[0]
    for k in range(rrs.shape[0]):
        _push_one(rrs[k], ring, n_beats, fstate, istate)
        if record:
            _time_values(fstate, istate, min_s, out_time[k])


# ---------------------------------------------------------------- quadratic interpolating spline
@jit
def _spline_fit(t, y, n, knots, coef, cp, b0, b1, b2):
    """Coefficients of scipy's ``make_interp_spline(t, y, k=2)`` (Greville-like knots).

    Knots: ``t0`` x3, midpoints ``(t_i + t_{i+1}) / 2`` for ``i = 1 .. n-3``, ``t_{n-1}`` x3.
    The collocation matrix is tridiagonal and totally positive: Thomas algorithm, no pivoting.
    Row ``i`` holds ``B_{i-1}, B_i, B_{i+1}`` at ``t_i`` (de Boor, span ``i + 1``), computed first
    in a separate loop (independent rows: vectorised) into ``b0, b1, b2``.
    """
    knots[0] = knots[1] = knots[2] = t[0]
    for i in range(1, n - 2):
        knots[i + 2] = (t[i + 1] + t[i]) / 2.0
    knots[n] = knots[n + 1] = knots[n + 2] = t[n - 1]
    for i in range(1, n - 1):
        x = t[i]
        l1 = x - knots[i + 1]
        l2 = x - knots[i]
        r1 = knots[i + 2] - x
        r2 = knots[i + 3] - x
        temp = 1.0 / (r1 + l1)
        n0 = r1 * temp
        n1 = l1 * temp
        temp = n0 / (r1 + l2)
        b0[i] = r1 * temp
        saved = l2 * temp
        temp = n1 / (r2 + l1)
        b1[i] = saved + r2 * temp
        b2[i] = l1 * temp
    # row 0: c0 = y0; rows 1..n-2: B_{i-1}, B_i, B_{i+1}; row n-1: c_{n-1} = y_{n-1}
    cp[0] = 0.0
    coef[0] = y[0]
    for i in range(1, n - 1):
        denom = b1[i] - b0[i] * cp[i - 1]
        cp[i] = b2[i] / denom
        coef[i] = (y[i] - b0[i] * coef[i - 1]) / denom
    coef[n - 1] = y[n - 1]
    for i in range(n - 2, 0, -1):
        coef[i] -= cp[i] * coef[i + 1]


@jit
def _grid_size(t_first, t_last, fs):
    """Samples of ``numpy.arange(t_first, t_last + 1/fs, 1/fs)`` and its step (as NumPy fills)."""
    step = 1.0 / fs
    n_grid = int(np.ceil(((t_last + 1.0 / fs) - t_first) / step))
    return n_grid, (t_first + step) - t_first


@jit
def _resample(t, y, n, knots, coef, fs, x, alpha, beta, gamma):
    """Spline values on the grid into ``x`` (end value held past the last beat); returns N.

    Per knot span ``[t_s, t_{s+1})`` de Boor's two interpolation levels are expanded into
    ``alpha + beta u + gamma u²`` (``u = g - t_s``; one vectorised loop over the spans into
    ``alpha, beta, gamma``), then each grid point is evaluated in its span.
    """
    n_grid, delta = _grid_size(t[0], t[n - 1], fs)
    for s in range(2, n):
        ts, t_next = knots[s], knots[s + 1]
        a, h, b = ts - knots[s - 1], t_next - ts, knots[s + 2] - t_next
        d0, d1, d2 = coef[s - 2], coef[s - 1], coef[s]
        e10, e11 = (h * d0 + a * d1) / (a + h), (d1 - d0) / (a + h)
        e21 = (d2 - d1) / (h + b)
        alpha[s] = e10
        beta[s] = (h * e11 - e10 + d1) / h
        gamma[s] = (e21 - e11) / h
    t_first, t_last = t[0], t[n - 1]
    s = 2
    i = 0
    while i < n_grid:
        g = t_first + i * delta if i > 0 else t_first
        if g > t_last:
            break
        while s < n - 1 and g >= knots[s + 1]:
            s += 1
        u = g - knots[s]
        x[i] = alpha[s] + u * (beta[s] + u * gamma[s])
        i += 1
    while i < n_grid:
        x[i] = y[n - 1]
        i += 1
    return n_grid


# ---------------------------------------------------------------- radix-2 FFT, chirp-z plans
@jit
def _fft_dif(zr, zi, n_fft, twr, twi):
    """Forward radix-2 DIF FFT, natural order in, bit-reversed order out (``n_fft`` = 2^p).

    ``twr[h-1+k] + i twi[h-1+k] = e^{-iπk/h}`` for the stage whose butterflies span ``h``. Spans
    from ``_LONG_SPAN``: the inner loop runs over contiguous ``k`` with unsigned indices (no
    wraparound test, no view per block: LLVM vectorises it); shorter spans: one pass per ``k``
    over the blocks (no per-block loop set-up); spans 2 and 1 are written out.
    """
    half = n_fft >> 1
    while half > 2:
        wr, wi = twr[half - 1 : 2 * half - 1], twi[half - 1 : 2 * half - 1]
        uh = _U(half)
        if half >= _LONG_SPAN:
            for base in range(0, n_fft, 2 * half):
                o0 = _U(base)
                o1 = o0 + uh
                for k in range(uh):
                    ur, ui, vr, vi = zr[o0 + k], zi[o0 + k], zr[o1 + k], zi[o1 + k]
                    zr[o0 + k] = ur + vr
                    zi[o0 + k] = ui + vi
                    dr, di = ur - vr, ui - vi
                    zr[o1 + k] = dr * wr[k] - di * wi[k]
                    zi[o1 + k] = dr * wi[k] + di * wr[k]
        else:  # short spans: one twiddle per pass over the blocks (strided)
            for k in range(uh):
                c, s = wr[k], wi[k]
                for o0 in range(k, _U(n_fft), 2 * uh):
                    o1 = o0 + uh
                    ur, ui, vr, vi = zr[o0], zi[o0], zr[o1], zi[o1]
                    zr[o0] = ur + vr
                    zi[o0] = ui + vi
                    dr, di = ur - vr, ui - vi
                    zr[o1] = dr * c - di * s
                    zi[o1] = dr * s + di * c
        half >>= 1
    for base in range(0, n_fft, 4):  # span 2: twiddles 1, -i
        r0, i0, r1, i1 = zr[base], zi[base], zr[base + 1], zi[base + 1]
        r2, i2, r3, i3 = zr[base + 2], zi[base + 2], zr[base + 3], zi[base + 3]
        ar, ai, br, bi = r0 + r2, i0 + i2, r1 + r3, i1 + i3
        cr, ci, dr, di = r0 - r2, i0 - i2, i1 - i3, r3 - r1  # d = (x1 - x3) (-i)
        zr[base], zi[base], zr[base + 1], zi[base + 1] = ar + br, ai + bi, ar - br, ai - bi
        zr[base + 2], zi[base + 2] = cr + dr, ci + di
        zr[base + 3], zi[base + 3] = cr - dr, ci - di


@jit
def _ifft_dit(zr, zi, n_fft, twr, twi):
    """Unnormalised inverse radix-2 DIT FFT, bit-reversed order in, natural order out."""
    for base in range(0, n_fft, 4):  # spans 1 and 2 (twiddles 1, +i)
        r0, i0, r1, i1 = zr[base], zi[base], zr[base + 1], zi[base + 1]
        r2, i2, r3, i3 = zr[base + 2], zi[base + 2], zr[base + 3], zi[base + 3]
        ar, ai, br, bi = r0 + r1, i0 + i1, r0 - r1, i0 - i1
        cr, ci, dr, di = r2 + r3, i2 + i3, -(i2 - i3), r2 - r3  # d = (x2 - x3) (+i)
        zr[base], zi[base], zr[base + 2], zi[base + 2] = ar + cr, ai + ci, ar - cr, ai - ci
        zr[base + 1], zi[base + 1] = br + dr, bi + di
        zr[base + 3], zi[base + 3] = br - dr, bi - di
    half = 4
    while half < n_fft:
        wr, wi = twr[half - 1 : 2 * half - 1], twi[half - 1 : 2 * half - 1]
        uh = _U(half)
        if half >= _LONG_SPAN:
            for base in range(0, n_fft, 2 * half):
                o0 = _U(base)
                o1 = o0 + uh
                for k in range(uh):  # twiddle conj(w)
                    cr, ci = zr[o1 + k], zi[o1 + k]
                    tr = cr * wr[k] + ci * wi[k]
                    ti = ci * wr[k] - cr * wi[k]
                    ur, ui = zr[o0 + k], zi[o0 + k]
                    zr[o1 + k] = ur - tr
                    zi[o1 + k] = ui - ti
                    zr[o0 + k] = ur + tr
                    zi[o0 + k] = ui + ti
        else:
            for k in range(uh):
                c, s = wr[k], wi[k]
                for o0 in range(k, _U(n_fft), 2 * uh):
                    o1 = o0 + uh
                    cr, ci = zr[o1], zi[o1]
                    tr = cr * c + ci * s
                    ti = ci * c - cr * s
                    ur, ui = zr[o0], zi[o0]
                    zr[o1] = ur - tr
                    zi[o1] = ui - ti
                    zr[o0] = ur + tr
                    zi[o0] = ui + ti
        half <<= 1


@jit
def _welch_sizes(n_grid, fs):
    """NeuroKit2's segment length M, Welch's overlap M // 2, segment count, K bins, FFT length L."""
    min_frequency = (2.0 * fs) / (n_grid / 2.0)
    m = int((2.0 / min_frequency) * fs)
    if m > n_grid / 2:
        m = int(n_grid / 2)
    step = m - m // 2
    n_seg = (n_grid - m) // step + 1
    k_max = int(0.5 * (2 * m) / fs) + 1  # bins up to 0.5 Hz (and one more)
    n_fft = 1
    while n_fft < m + 2 * k_max:
        n_fft *= 2
    return m, step, n_seg, k_max, n_fft


@jit
def _build_plan(m, k_max, n_fft, twr, twi, w, pre, post, g_re, g_im):
    """Hann window, chirps ``e^{-iπn²/2M}`` and the FFT of the chirp filter for segment length M."""
    period = 4 * m  # exp(-iπ j²/(2M)) repeats when j² grows by 4M
    for i in range(m):
        w[i] = 0.5 - 0.5 * np.cos(2.0 * np.pi * i / m)
        r = (i * i) % period
        pre[i, 0] = np.cos(np.pi * r / (2 * m))
        pre[i, 1] = -np.sin(np.pi * r / (2 * m))
    for q in range(2 * k_max + 1):
        r = ((q - k_max) * (q - k_max)) % period
        post[q, 0] = np.cos(np.pi * r / (2 * m))
        post[q, 1] = -np.sin(np.pi * r / (2 * m))
    g_re[:n_fft] = 0.0
    g_im[:n_fft] = 0.0
    for q in range(m + 2 * k_max):
        j = q - k_max - (m - 1)
        r = (j * j) % period
        g_re[q] = np.cos(np.pi * r / (2 * m))
        g_im[q] = np.sin(np.pi * r / (2 * m))
    _fft_dif(g_re, g_im, n_fft, twr, twi)  # bit-reversed order, as the segments' transforms


@jit
def _plan_slot(m, k_max, n_fft, twr, twi, plan_m, plan_t, clock, w, pre, post, g):
    """The cache slot holding the plan of segment length ``m`` (built in the oldest slot if new)."""
    slot = -1
    for s in range(plan_m.shape[0]):
        if plan_m[s] == m:
            slot = s
    if slot < 0:
        slot = 0
        for s in range(plan_m.shape[0]):
            if plan_t[s] < plan_t[slot]:
                slot = s
        _build_plan(
            m, k_max, n_fft, twr, twi, w[slot], pre[slot], post[slot], g[slot, 0], g[slot, 1]
        )
        plan_m[slot] = m
    plan_t[slot] = clock
    return slot


@jit
def _czt_pair(x, a0, b0, m, k_max, n_fft, twr, twi, w, pre, post, g, zr, zi, acc):
    """Add ``|A_k|² + |B_k|²`` (k <= k_max, DFT of length 2M) of the Hann-windowed segments of
    ``x`` at ``a0`` and ``b0`` (``b0 < 0``: none) to ``acc``: one Bluestein chirp-z transform of
    ``w (x_a + i x_b)`` evaluated at bins ``-k_max .. k_max``."""
    for i in range(m):
        ar = w[i] * x[a0 + i]
        ai = w[i] * x[b0 + i] if b0 >= 0 else 0.0
        zr[i] = ar * pre[i, 0] - ai * pre[i, 1]
        zi[i] = ar * pre[i, 1] + ai * pre[i, 0]
    zr[m:n_fft] = 0.0
    zi[m:n_fft] = 0.0
    _fft_dif(zr, zi, n_fft, twr, twi)
    for i in range(n_fft):  # times the filter spectrum (both in bit-reversed order)
        re = zr[i] * g[0, i] - zi[i] * g[1, i]
        im = zr[i] * g[1, i] + zi[i] * g[0, i]
        zr[i] = re
        zi[i] = im
    _ifft_dit(zr, zi, n_fft, twr, twi)
    inv_n = 1.0 / n_fft  # a power of two: multiplying by it is exact, as dividing
    for k in range(k_max + 1):
        p = m - 1 + k_max + k  # output bin +k
        q = m - 1 + k_max - k  # output bin -k
        pr, pi = post[k_max + k, 0], post[k_max + k, 1]
        yr = (zr[p] * pr - zi[p] * pi) * inv_n
        yi = (zr[p] * pi + zi[p] * pr) * inv_n
        pr, pi = post[k_max - k, 0], post[k_max - k, 1]
        vr = (zr[q] * pr - zi[q] * pi) * inv_n
        vi = (zr[q] * pi + zi[q] * pr) * inv_n
        # A = (Y(k) + conj Y(-k)) / 2, B = (Y(k) - conj Y(-k)) / (2i)
        a_r, a_i = 0.5 * (yr + vr), 0.5 * (yi - vi)
        b_r, b_i = 0.5 * (yi + vi), -0.5 * (yr - vr)
        acc[k] += a_r * a_r + a_i * a_i + b_r * b_r + b_i * b_i


@jit
def _trapezoid_band(power, f0, df, k_lo, k_hi, lo, hi):
    """Trapezoid integral (ms²) of ``power`` over kept bins with ``lo <= f < hi``; 0 if none."""
    total = 0.0
    prev_f, prev_p, started = 0.0, 0.0, False
    for k in range(k_lo, k_hi + 1):
        f = k * df
        if f < lo or f >= hi:
            continue
        if started:
            total += (f - prev_f) * (power[k] + prev_p) / 2.0
        prev_f, prev_p, started = f, power[k], True
    return total


@jit
def _frequency_window(
    rr, fs, min_s, bands, work, twr, twi, plan_m, plan_t, clock, w, pre, post, g, out
):
    """LF, HF, LF/HF, LFn, HFn, TP of the RR window ``rr`` (ms) into ``out[:6]``.

    ``work`` rows: 0 beat times, 1 knots, 2 coefficients, 3 Thomas scratch then the spans'
    constant terms, 4 grid samples (basis scratch during the fit), 5 / 6 FFT real / imaginary
    parts (before: basis scratch, then the spans' linear / quadratic terms), 7 power. NaN when
    the RR sum is under ``min_s`` seconds or fewer than 3 beats are held. Returns 0, or the grid
    length N when the buffers are too small for this window (the caller grows them and calls
    again).
    """
    n = rr.shape[0]
    t, knots, coef, cp, x = work[0], work[1], work[2], work[3], work[4]
    zr, zi, acc = work[5], work[6], work[7]
    out[:6] = np.nan
    total, rr_sum = 0.0, 0.0
    for i in range(n):
        t[i] = total + rr[i] / 1000.0 if i > 0 else rr[0] / 1000.0
        total = t[i]
        rr_sum += rr[i]
    if n < 3 or rr_sum / 1000.0 < min_s:
        return 0
    n_grid, _ = _grid_size(t[0], t[n - 1], fs)
    m, step, n_seg, k_max, n_fft = _welch_sizes(n_grid, fs)
    if n_grid > x.shape[0] or n_fft > g.shape[2] or m > w.shape[1] or 2 * k_max >= post.shape[1]:
        return n_grid
    _spline_fit(t, rr, n, knots, coef, cp, x, zr, zi)
    _resample(t, rr, n, knots, coef, fs, x, cp, zr, zi)
    mean = 0.0
    for i in range(n_grid):
        mean += x[i]
    mean /= n_grid
    for i in range(n_grid):
        x[i] -= mean
    slot = _plan_slot(m, k_max, n_fft, twr, twi, plan_m, plan_t, clock, w, pre, post, g)
    acc[: k_max + 1] = 0.0
    for s in range(0, n_seg, 2):
        b0 = (s + 1) * step if s + 1 < n_seg else -1
        _czt_pair(
            x,
            s * step,
            b0,
            m,
            k_max,
            n_fft,
            twr,
            twi,
            w[slot],
            pre[slot],
            post[slot],
            g[slot],
            zr,
            zi,
            acc,
        )
    win_ss = 0.0
    for i in range(m):
        win_ss += w[slot, i] * w[slot, i]
    scale = 1.0 / (fs * win_ss)
    df = 1.0 / ((2 * m) * (1.0 / fs))
    min_frequency = (2.0 * fs) / (n_grid / 2.0)
    k_lo, k_hi = k_max + 1, -1  # kept bins: min_frequency <= f <= top band edge (contiguous)
    for k in range(k_max + 1):
        acc[k] = acc[k] / n_seg * scale * (2.0 if 0 < k < m else 1.0)
        f = k * df
        if f >= min_frequency and f <= bands[-1, 1]:
            k_lo = min(k_lo, k)
            k_hi = k
    tp = 0.0
    lf, hf = np.nan, np.nan
    for j in range(bands.shape[0]):
        value = _trapezoid_band(acc, 0.0, df, k_lo, k_hi, bands[j, 0], bands[j, 1])
        if value != 0.0:
            tp += value
            if j == 2:
                lf = value
            elif j == 3:
                hf = value
    out[0], out[1], out[2] = lf, hf, lf / hf
    out[3], out[4], out[5] = lf / tp, hf / tp, tp
    return 0


@jit
def _frequency_latest(
    ring, n_beats, istate, fs, min_s, bands, work, tw, plan, w, pre, post, g, out
):
    """Frequency-domain values of the held window of the ring into ``out`` (the live path).

    ``tw``: FFT twiddles (rows real, imaginary); ``plan``: plan cache (rows ``M``, last use).
    Returns as :func:`_frequency_window` (0, or the grid length when the buffers are too small).
    """
    held = istate[I_HELD]
    start = (istate[I_POS] - held) % n_beats
    return _frequency_window(
        ring[start : start + held],
        fs,
        min_s,
        bands,
        work,
        tw[0],
        tw[1],
        plan[0],
        plan[1],
        istate[I_COUNT],
        w,
        pre,
        post,
        g,
        out,
    )


@jit
def _frequency_per_beat(rr, n_beats, fs, min_s, bands, work, tw, plan, w, pre, post, g, out):
    """``out[k]`` = frequency-domain values of the window of ``n_beats`` RR ending at beat k."""
    twr, twi, plan_m, plan_t = tw[0], tw[1], plan[0], plan[1]
    for k in range(rr.shape[0]):
        first = max(0, k + 1 - n_beats)
        status = _frequency_window(
            rr[first : k + 1],
            fs,
            min_s,
            bands,
            work,
            twr,
            twi,
            plan_m,
            plan_t,
            k,
            w,
            pre,
            post,
            g,
            out[k],
        )
        if status != 0:
            return k
    return -1
