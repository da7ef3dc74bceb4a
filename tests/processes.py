"""Real `orbitchat serve` processes for multi-process tests."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.storage import free_port

ROOT = Path(__file__).resolve().parent.parent


class ServeProcess:
    def __init__(self, data_dir: Path, env: dict[str, str], services: str = "all", port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / f"serve-{self.port}.log"
        data_dir.mkdir(parents=True, exist_ok=True)
        full_env = {**os.environ, **env}
        cmd = [sys.executable, "-m", "core.cli", "serve", "--port", str(self.port), "--data-dir", str(data_dir),
               "--services", services, "--lock", str(data_dir / "plugin.lock")]
        self._log = open(self.log, "wb")
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=full_env, cwd=ROOT)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"serve exited with {self.proc.returncode}:\n{self.output()}")
            if b"listening on" in self.log.read_bytes():
                return
            time.sleep(0.05)
        raise RuntimeError(f"serve did not start:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode
