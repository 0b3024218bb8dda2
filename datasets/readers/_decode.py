"""What every reader shares: C decoders' stderr caught into the one-line error, and a decoder's reason on
one line."""
from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading

_STDERR_LOCK = threading.Lock()
_DECODER_NOISE = re.compile(r"^(libpng (error|warning)|Corrupt JPEG data|Premature end of JPEG|Invalid SOS|"
                            r"Bogus|\[ WARN:|\[ERROR:)", re.I)


@contextlib.contextmanager
def stderr_captured():
    """Catch what C decoders print on fd 2 (libpng: 'libpng error: ...'): it is the reason a decode failed,
    which belongs in the one-line error, not as noise on the user's terminal. Yields a list that receives
    the text; anything else written meanwhile (another thread's log line) is passed on to stderr."""
    out: list[str] = []
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError):
            yield out
            return
        with tempfile.TemporaryFile() as tmp:
            os.dup2(tmp.fileno(), 2)
            try:
                yield out
            finally:
                os.dup2(saved, 2)
                os.close(saved)
                tmp.seek(0)
                text = tmp.read().decode("utf-8", "replace")
        ours = [ln for ln in text.splitlines() if _DECODER_NOISE.match(ln)]
        other = [ln for ln in text.splitlines() if ln.strip() and not _DECODER_NOISE.match(ln)]
        out.extend(ln.split(":", 1)[1].strip() if ln.lower().startswith("libpng") else ln.strip() for ln in ours)
        if other:
            print("\n".join(other), file=sys.stderr)


def one_line(e: Exception) -> str:
    """A decoder's whole reason on one line (pydicom lists every plugin's reason on lines of their own);
    hints that address programmers ("Use force=True") are dropped."""
    text = re.sub(r"\s*Use force=True to force reading\.?", "", str(e))
    parts = [ln.strip() for ln in text.strip().splitlines() if ln.strip()]
    s = " ".join(p if p.endswith((":", ".", ";")) or i == len(parts) - 1 else p + ";" for i, p in enumerate(parts))
    return (s[:400] + "...") if len(s) > 400 else s or type(e).__name__
