"""Progress: a live bar on a terminal, plain log lines in CI logs and pipes."""
from __future__ import annotations

import sys
import time


def _eta(seconds: float) -> str:
    seconds = max(0, int(seconds))
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m" if seconds >= 3600 else f"{seconds // 60}m{seconds % 60:02d}s"


class _Quiet:
    def update(self, loss: float, ips: float) -> None:
        pass

    def close(self) -> None:
        pass


class _Bar:
    def __init__(self, epoch: int, epochs: int, steps: int, stream):
        from tqdm import tqdm

        self.bar = tqdm(total=steps, desc=f"epoch {epoch + 1}/{epochs}", file=stream, leave=False,
                        dynamic_ncols=True, unit="batch")

    def update(self, loss: float, ips: float) -> None:
        self.bar.set_postfix_str(f"loss {loss:.4f} {ips:.1f} img/s", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


class _Lines:
    """A line at every quarter of a long epoch, and at least every ``EVERY_S`` seconds of a slow one, so logs
    show life (steps, img/s, ETA) without flooding."""

    EVERY_S = 10.0

    def __init__(self, epoch: int, epochs: int, steps: int, stream):
        self.epoch, self.epochs, self.steps, self.stream = epoch, epochs, steps, stream
        self.n, self.t0 = 0, time.perf_counter()
        self.last = self.t0
        self.marks = {max(1, steps * q // 4) for q in (1, 2, 3)} if steps >= 40 else set()

    def update(self, loss: float, ips: float) -> None:
        self.n += 1
        now = time.perf_counter()
        if self.n < self.steps and (self.n in self.marks or now - self.last >= self.EVERY_S):
            self.last = now
            el = now - self.t0
            print(f"  epoch {self.epoch + 1}/{self.epochs} batch {self.n}/{self.steps} loss {loss:.4f} "
                  f"{ips:.1f} img/s ETA(epoch) {_eta(el / self.n * (self.steps - self.n))}", file=self.stream, flush=True)

    def close(self) -> None:
        pass


class Progress:
    def __init__(self, enabled: bool = True, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.t0 = time.perf_counter()

    def epoch_bar(self, epoch: int, epochs: int, steps: int):
        if not self.enabled:
            return _Quiet()
        return (_Bar if self.tty else _Lines)(epoch, epochs, steps, self.stream)

    def epoch_done(self, epoch: int, epochs: int, stats: dict, val: dict | None, monitor: str, first_epoch: int,
                   seconds: tuple[float, float, float] | None = None) -> None:
        if not self.enabled:
            return
        el = time.perf_counter() - self.t0
        done = epoch + 1 - first_epoch
        eta = el / max(done, 1) * (epochs - epoch - 1)
        v = f" {monitor} {val[monitor]:.4f}" if val and monitor in val else ""
        t = f" (train {seconds[0]:.0f} s, val {seconds[1]:.0f} s, save {seconds[2]:.1f} s)" if seconds else ""
        print(f"epoch {epoch + 1}/{epochs} loss {stats['train_loss']:.4f}{v} {stats['images_per_s']:.1f} img/s "
              f"lr {stats['lr']:.2e} ETA {_eta(eta)}{t}", file=self.stream, flush=True)

    def note(self, msg: str, always: bool = False) -> None:
        if self.enabled or always:
            print(msg, file=self.stream, flush=True)
