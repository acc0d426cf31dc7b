"""A simulated resident: a person whose latent craving (0-100) drives cue reactivity.

Deterministic from a seed. The person wears a Muse-like EEG headband and a chest strap; this module
generates what those devices would measure, sample by sample (EEG) and beat by beat (RR),
reacting to the protocol block being presented. Directions and sizes come from
``simulation.yaml`` (cited there).

* EEG (µV): 1/f background (the Kasdin/Kellet pink-noise filter), band-limited alpha around the
  person's alpha peak, theta, beta and gamma, eye blinks on the frontal channels, muscle bursts
  (NeuroKit2's ``emg_simulate``) on the temporal channels, a trace of 50 Hz line noise.
* Heart (ms): RR intervals with respiratory sinus arrhythmia driven by a NeuroKit2 respiration trace
  (``rsp_simulate``, breathmetrics), a 0.1 Hz Mayer wave (LF) and beat-to-beat noise.
Times are session seconds (0 = the moment the devices started), so a session's numbers do not
depend on the host clock's value; the sources add the host origin to their timestamps.

* Drug cues scale those components by ``craving/100 × reactivity``, with a first-order onset
  and offset.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import neurokit2 as nk
import numpy as np
import yaml
from scipy import signal

from addiction_index.errors import InputError

__all__ = ["EEG_CHANNELS", "ResidentParams", "SimulatedResident", "simulation_settings"]

EEG_CHANNELS = ("TP9", "AF7", "AF8", "TP10")
_FRONTAL = np.array([0.0, 1.0, 1.0, 0.0])
_TEMPORAL = 1.0 - _FRONTAL
_SETTINGS_FILE = Path(__file__).with_name("simulation.yaml")
# Pink-noise filter (Kasdin 1995; the coefficients of J. O. Smith's "pink noise" example).
_PINK_B = np.array([0.049922035, -0.095993537, 0.050612699, -0.004408786])
_PINK_A = np.array([1.0, -2.494956002, 2.017265875, -0.522189400])
_RESP_RATE_HZ = 10.0
_RESP_SEGMENT_S = 1800.0
_EEG_BLOCK = 64  # samples generated at a time (0.25 s at 256 Hz)


@cache
def simulation_settings() -> dict[str, Any]:
    """The effect sizes and person distributions of ``simulation.yaml``."""
    return yaml.safe_load(_SETTINGS_FILE.read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ResidentParams:
    """Who is simulated. Units: bpm, ms, Hz, years; craving and ratings on a 0-100 scale."""

    seed: int
    craving: float
    reports_craving: bool = True
    age: int = 30
    resting_hr_bpm: float = 76.0
    resting_rmssd_ms: float = 32.0
    respiration_rate_bpm: float = 14.0
    alpha_peak_hz: float = 10.0
    reactivity: float = 1.0
    # Protocol roles during which the devices lose skin contact (flat EEG, no beats reported).
    detached_roles: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def draw(cls, seed: int, craving: float, **overrides: Any) -> ResidentParams:
        """Draw a person from the distributions of ``simulation.yaml`` (deterministic in seed)."""
        if not 0.0 <= craving <= 100.0:
            raise InputError("craving", craving, "a latent craving between 0 and 100")
        person = simulation_settings()["person"]
        rng = np.random.default_rng([seed, 0])
        params = cls(
            seed=seed,
            craving=float(craving),
            age=int(rng.integers(person["age_min"], person["age_max"] + 1)),
            resting_hr_bpm=float(
                np.clip(
                    rng.normal(person["resting_hr_mean_bpm"], person["resting_hr_sd_bpm"]), 55, 100
                )
            ),
            resting_rmssd_ms=float(
                np.clip(
                    rng.normal(person["resting_rmssd_mean_ms"], person["resting_rmssd_sd_ms"]),
                    12,
                    70,
                )
            ),
            respiration_rate_bpm=float(
                np.clip(
                    rng.normal(
                        person["respiration_rate_mean_bpm"], person["respiration_rate_sd_bpm"]
                    ),
                    9,
                    22,
                )
            ),
            alpha_peak_hz=float(
                np.clip(
                    rng.normal(person["alpha_peak_mean_hz"], person["alpha_peak_sd_hz"]), 8.8, 11.8
                )
            ),
            reactivity=float(np.clip(rng.normal(1.0, person["reactivity_sd"]), 0.6, 1.4)),
        )
        return replace(params, **overrides)


class _Timeline:
    """Which protocol role is presented at a given session time (s since the session started)."""

    def __init__(self) -> None:
        self._spans: list[tuple[float, float, str]] = []

    def set(self, spans: list[tuple[float, float, str]]) -> None:
        self._spans = sorted(spans)

    def role_at(self, t: float) -> str | None:
        for start, end, role in self._spans:
            if start <= t < end:
                return role
        return None


class _Reaction:
    """First-order response level (0..gain) towards the drug-cue target, advanced in time."""

    def __init__(self, gain: float, onset_tau: float, offset_tau: float) -> None:
        self.gain, self.onset_tau, self.offset_tau = gain, onset_tau, offset_tau
        self.level = 0.0
        self.t: float | None = None

    def at(self, t: float, role: str | None) -> float:
        if self.t is not None and t > self.t:
            target = self.gain if role == "drug" else 0.0
            tau = self.onset_tau if target > self.level else self.offset_tau
            self.level = target + (self.level - target) * math.exp(-(t - self.t) / tau)
        self.t = t
        return self.level


class SimulatedResident:
    """Generates a resident's EEG samples and heartbeats, reacting to the protocol timeline."""

    def __init__(self, params: ResidentParams, eeg_rate_hz: float = 256.0) -> None:
        self.params = params
        self.fs = float(eeg_rate_hz)
        settings = simulation_settings()
        self._eeg_cfg = settings["eeg"]
        self._effects = settings["cue_effects"]
        self._ratings_cfg = settings["ratings"]
        self.timeline = _Timeline()
        gain = params.craving / 100.0 * params.reactivity
        tau_on, tau_off = self._effects["onset_tau_s"], self._effects["offset_tau_s"]
        self._eeg_reaction = _Reaction(gain, tau_on, tau_off)
        self._heart_reaction = _Reaction(gain, tau_on, tau_off)
        self._eeg_rng = np.random.default_rng([params.seed, 1])
        self._heart_rng = np.random.default_rng([params.seed, 2])
        self._rating_rng = np.random.default_rng([params.seed, 3])
        self._init_eeg()
        self._mayer_phase = float(self._heart_rng.uniform(0, 2 * np.pi))
        self._resp_segments: dict[int, np.ndarray] = {}
        self._rsa_factor_value: float | None = None

    # -- EEG ---------------------------------------------------------------------------------
    def _init_eeg(self) -> None:
        fs, peak = self.fs, self.params.alpha_peak_hz
        bands = {
            "theta": (4.5, 7.5),
            "alpha": (peak - 1.5, peak + 1.5),
            "beta": (15.0, 25.0),
            "gamma": (32.0, 44.0),
        }
        self._sos = {
            k: signal.butter(2, v, btype="band", fs=fs, output="sos") for k, v in bands.items()
        }
        self._sos_state = {k: np.zeros((sos.shape[0], 2, 4)) for k, sos in self._sos.items()}
        self._pink_state = np.zeros((len(_PINK_A) - 1, 4))
        # Unit-RMS gains of each filter for white noise input, measured once (deterministic).
        probe = np.random.default_rng(12345).standard_normal(int(fs * 60))
        self._gain = {k: 1.0 / np.std(signal.sosfilt(sos, probe)) for k, sos in self._sos.items()}
        self._gain["pink"] = 1.0 / np.std(signal.lfilter(_PINK_B, _PINK_A, probe))
        self._blinks: list[tuple[float, float]] = []
        self._next_blink = self._draw_interval(self._eeg_cfg["blink_rate_per_min"])
        self._bursts: list[tuple[float, np.ndarray]] = []
        self._next_burst = self._draw_interval(self._eeg_cfg["muscle_rate_per_min"])
        self._eeg_t0: float | None = None
        self._eeg_next_t = 0.0
        self._eeg_buffer = np.zeros((0, 4))

    def _draw_interval(self, rate_per_min: float) -> float:
        return float(self._eeg_rng.exponential(60.0 / rate_per_min))

    def _band(self, name: str, n: int) -> np.ndarray:
        white = self._eeg_rng.standard_normal((n, 4))
        out, self._sos_state[name] = signal.sosfilt(
            self._sos[name], white, axis=0, zi=self._sos_state[name]
        )
        return out * self._gain[name]

    def eeg(self, t_start: float, n: int) -> np.ndarray:
        """The next ``n`` EEG samples (µV; TP9, AF7, AF8, TP10) from session time ``t_start``.

        Samples are generated in internal blocks of ``_EEG_BLOCK`` samples (the reaction level and
        the presented role are read at the start of each block) and served in order.
        """
        if self._eeg_t0 is None:
            self._eeg_t0 = t_start
            self._eeg_next_t = t_start
        while self._eeg_buffer.shape[0] < n:
            block = self._eeg_block(self._eeg_next_t, _EEG_BLOCK)
            self._eeg_next_t += _EEG_BLOCK / self.fs
            self._eeg_buffer = np.concatenate([self._eeg_buffer, block])
        out, self._eeg_buffer = self._eeg_buffer[:n], self._eeg_buffer[n:]
        return out

    def _eeg_block(self, t_start: float, n: int) -> np.ndarray:
        cfg, fx = self._eeg_cfg, self._effects
        t = t_start + np.arange(n) / self.fs
        role = self.timeline.role_at(t_start)
        g = self._eeg_reaction.at(t_start, role)
        white = self._eeg_rng.standard_normal((n, 4))
        pink, self._pink_state = signal.lfilter(
            _PINK_B, _PINK_A, white, axis=0, zi=self._pink_state
        )
        x = pink * self._gain["pink"] * cfg["background_uv"]
        alpha_amp = (
            cfg["alpha_frontal_uv"] * (1 + fx["alpha_frontal"] * g) * _FRONTAL
            + cfg["alpha_temporal_uv"] * (1 + fx["alpha_temporal"] * g) * _TEMPORAL
        )
        x += self._band("alpha", n) * alpha_amp
        x += self._band("theta", n) * cfg["theta_uv"] * (1 + fx["theta"] * g)
        x += self._band("beta", n) * cfg["beta_uv"] * (1 + fx["beta"] * g)
        x += self._band("gamma", n) * cfg["gamma_uv"] * (1 + fx["gamma"] * g)
        x += cfg["line_noise_uv"] * math.sqrt(2) * np.sin(2 * np.pi * 50.0 * t)[:, None]
        x += self._artefacts(t)
        if role in self.params.detached_roles:
            x = np.full_like(x, 3.0) + 0.02 * white  # electrodes off the skin: a flat line
        return x

    def _artefacts(self, t: np.ndarray) -> np.ndarray:
        cfg = self._eeg_cfg
        rel_end = t[-1] - self._eeg_t0
        while self._next_blink <= rel_end:
            amp = cfg["blink_amplitude_uv"] * float(self._eeg_rng.uniform(0.7, 1.3))
            self._blinks.append((self._eeg_t0 + self._next_blink, amp))
            self._next_blink += 0.3 + self._draw_interval(cfg["blink_rate_per_min"])
        while self._next_burst <= rel_end:
            duration = float(self._eeg_rng.uniform(0.4, 1.2))
            wave = nk.emg_simulate(
                duration=duration + 0.1,
                sampling_rate=int(self.fs),
                burst_number=1,
                burst_duration=duration,
                random_state=int(self._eeg_rng.integers(2**31)),
            )
            wave = wave / (np.std(wave) + 1e-12) * cfg["muscle_amplitude_uv"]
            self._bursts.append((self._eeg_t0 + self._next_burst, wave))
            self._next_burst += duration + self._draw_interval(cfg["muscle_rate_per_min"])
        out = np.zeros((t.size, 4))
        blink_len = 0.35
        self._blinks = [(tb, a) for tb, a in self._blinks if tb + blink_len >= t[0]]
        for tb, amp in self._blinks:
            phase = (t - tb) / blink_len
            inside = (phase >= 0) & (phase < 1)
            shape = np.where(inside, 0.5 * (1 - np.cos(2 * np.pi * phase)), 0.0)
            out += shape[:, None] * amp * (_FRONTAL + 0.1 * _TEMPORAL)
        self._bursts = [(tb, w) for tb, w in self._bursts if tb + w.size / self.fs >= t[0]]
        for tb, wave in self._bursts:
            idx = np.round((t - tb) * self.fs).astype(np.int64)
            inside = (idx >= 0) & (idx < wave.size)
            burst = np.where(inside, wave[np.clip(idx, 0, wave.size - 1)], 0.0)
            out += burst[:, None] * (_TEMPORAL + 0.3 * _FRONTAL)
        return out

    # -- Heart -------------------------------------------------------------------------------
    def _respiration(self, t: float) -> float:
        """Normalised respiration (z-score) at ``t`` session seconds; a NeuroKit2 trace."""
        segment = int(t // _RESP_SEGMENT_S)
        if segment not in self._resp_segments:
            trace = nk.rsp_simulate(
                duration=int(_RESP_SEGMENT_S) + 2,
                sampling_rate=int(_RESP_RATE_HZ),
                respiratory_rate=self.params.respiration_rate_bpm,
                method="breathmetrics",
                random_state=self.params.seed * 1000 + segment,
            )
            self._resp_segments = {segment: (trace - trace.mean()) / trace.std()}
        trace = self._resp_segments[segment]
        pos = (t - segment * _RESP_SEGMENT_S) * _RESP_RATE_HZ
        i = int(pos)
        frac = pos - i
        return float(trace[i] * (1 - frac) + trace[i + 1] * frac)

    def _rsa_factor(self) -> float:
        """RMSSD of the unit respiration trace sampled once per resting beat (measured once)."""
        if self._rsa_factor_value is None:
            rr_s = 60.0 / self.params.resting_hr_bpm
            beats = np.arange(0.0, 600.0, rr_s)
            resp = np.array([self._respiration(b) for b in beats])
            self._rsa_factor_value = float(np.sqrt(np.mean(np.diff(resp) ** 2)))
        return self._rsa_factor_value

    def next_rr_ms(self, t_beat: float) -> float:
        """RR interval (ms) of the beat that follows the beat at ``t_beat`` (session seconds)."""
        p, fx = self.params, self._effects
        g = self._heart_reaction.at(t_beat, self.timeline.role_at(t_beat))
        hr = p.resting_hr_bpm + fx["heart_rate_bpm"] * g
        rr0 = 60000.0 / hr
        lf_amp = 12.0 * (1 + fx["lf"] * g)
        noise_sd = 4.0
        rsa_factor = self._rsa_factor()
        # RMSSD of a sinusoid of amplitude A sampled once per beat is A·√2·sin(π f RR).
        lf_factor = math.sqrt(2) * abs(math.sin(math.pi * 0.1 * rr0 / 1000.0))
        vagal_rmssd2 = max(p.resting_rmssd_ms**2 - (lf_factor * 12.0) ** 2 - 2 * noise_sd**2, 16.0)
        rsa_amp = math.sqrt(vagal_rmssd2) / rsa_factor * (1 + fx["vagal"] * g)
        rr = (
            rr0
            - rsa_amp * self._respiration(t_beat)
            + lf_amp * math.sin(2 * math.pi * 0.1 * t_beat + self._mayer_phase)
            + noise_sd * float(self._heart_rng.standard_normal())
        )
        return float(np.clip(rr, 300.0, 2000.0))

    def skin_contact(self, t: float) -> bool:
        """False while the role at ``t`` (session seconds) is one the devices are detached for."""
        return self.timeline.role_at(t) not in self.params.detached_roles

    # -- Ratings -----------------------------------------------------------------------------
    def rate_craving(self, moment: str) -> float:
        """A VAS craving rating 0-100 at ``moment`` ("pre_cue" or "post_cue")."""
        cfg = self._ratings_cfg
        base = self.params.craving * (cfg["pre_cue_fraction"] if moment == "pre_cue" else 1.0)
        value = base + float(self._rating_rng.normal(0.0, cfg["noise_sd"]))
        if not self.params.reports_craving:
            return 0.0
        return float(np.clip(round(value), 0.0, 100.0))
