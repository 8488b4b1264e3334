"""Kernels forked from a template that has already imported the notebooks' libraries (see kommunelab.kernel).

Papermill stays the executor: ``kernel_manager_class=ForkingKernelManager`` is handed through papermill to nbclient,
and the manager's provisioner asks this worker's template for a child instead of starting a new Python. Connection
files, ports, messaging, interrupts and shutdown are jupyter_client's own; only the launch differs.

The template belongs to the worker process (one per worker, started on first use, restarted if it died) and dies
with it. Its kernels are the template's children, not the worker's, so the provisioner follows them by PID.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from queue import Empty
from typing import Any

from jupyter_client import AsyncKernelManager
from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.provisioning import LocalProvisioner
from jupyter_core.utils import ensure_async, run_sync
from traitlets import Type

from ...kernel import KERNEL_ARGUMENTS
from ...lifetime import alive, die_with_parent

_template: subprocess.Popen | None = None
_ready = False
_spare: tuple[tuple, ForkingKernelManager] | None = None  # the next variant's kernel, started ahead (start_spare)
_env: dict[str, str] | None = None  # the build's environment for its kernels (the project, a data mirror): the template's too


class TemplateFailed(RuntimeError):
    """The kernel template could not be started or did not answer."""


def start_template(env: dict[str, str] | None = None) -> None:
    """Start this worker's kernel template (if it is not running) without waiting for its imports. ``env`` is what
    the build gives its kernels (the project's root, a data mirror): the template reads the reference data there."""
    global _template, _ready, _env
    if env is not None:
        _env = dict(env)
    if _template is None or _template.poll() is not None:
        _template = subprocess.Popen([sys.executable, "-m", "kommunelab.kernel", "--template"], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True, bufsize=1, preexec_fn=die_with_parent,
                                     env={**os.environ, **(_env or {})})
        _ready = False


def template() -> subprocess.Popen:
    """This worker's kernel template, started if it is not running, once its imports are done."""
    global _ready
    start_template()
    if not _ready:
        if json.loads(_template.stdout.readline() or "{}").get("ready") is not True:
            raise TemplateFailed(f"the kernel template exited with {_template.wait()} before it was ready")
        _ready = True
    return _template


def fork_kernel(argv: list[str], cwd: str, env: dict[str, str]) -> int:
    """PID of a new kernel forked from the template, started with the kernel's options ``argv`` (those after the
    module, as the kernel spec and the client give them: ``-f CONNECTION_FILE`` and the rest)."""
    server = template()
    request = {"argv": argv, "cwd": cwd, "env": env}
    try:
        server.stdin.write(json.dumps(request) + "\n")
        answer = server.stdout.readline()
    except (BrokenPipeError, OSError) as exc:
        raise TemplateFailed(f"the kernel template stopped answering: {exc}") from None
    if not answer:
        raise TemplateFailed(f"the kernel template exited with {server.wait()} while forking a kernel")
    return int(json.loads(answer)["pid"])


class ForkedKernel:
    """The part of subprocess.Popen that LocalProvisioner uses, for a kernel that is not this process's child."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None
        self._signal: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None and not alive(self.pid):
            self.returncode = -self._signal if self._signal else 0  # the template reaps it; its real status is lost
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.01)
        return self.returncode

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            if sig in (signal.SIGKILL, signal.SIGTERM):
                self._signal = sig
            os.kill(self.pid, sig)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


class ForkingProvisioner(LocalProvisioner):
    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> Any:
        options = cmd[cmd.index("-f"):]  # the spec's and the client's (e.g. where IPython keeps its history)
        cwd = str(kwargs.get("cwd") or os.getcwd())
        env = dict(kwargs.get("env") or os.environ)
        self.process = ForkedKernel(fork_kernel(options, cwd, env))
        self.pid = self.pgid = self.process.pid  # the child called setsid(): its PID is its process group
        self.cwd = cwd
        return self.connection_info


class BuildKernelClient(AsyncKernelClient):
    """jupyter_client's client without the heartbeat channel. Its thread pings the kernel over a REQ socket, and a ping
    sent just after the kernel was shut down blocks for ever (a REQ socket with no peer cannot send), so stopping the
    channel, which joins that thread, hung the worker: a 98-profile build waited on its 16th variant until it was
    killed. A client made by a manager, as a build's are, asks the manager (the kernel's process) whether the kernel is
    alive, never the heartbeat, so nothing is lost."""

    def start_channels(self, shell: bool = True, iopub: bool = True, stdin: bool = True, hb: bool = False,
                       control: bool = True) -> None:
        super().start_channels(shell=shell, iopub=iopub, stdin=stdin, hb=False, control=control)


class BuildKernelManager(AsyncKernelManager):
    """jupyter_client's manager, but the connection file (which holds the kernel's signing key) goes in
    $JUPYTER_RUNTIME_DIR, which a build points into its own temporary folder, instead of a mkstemp file in /tmp that a
    killed build would leave behind; and its client starts no heartbeat (BuildKernelClient)."""

    client_factory = Type(BuildKernelClient, klass=AsyncKernelClient)

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        runtime = (kw.get("env") or os.environ).get("JUPYTER_RUNTIME_DIR")  # a kernel started ahead is given its env
        if runtime and not self.connection_file:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.connection_file = os.path.join(runtime, f"kernel-{self.kernel_id}.json")
        return await super()._async_pre_start_kernel(**kw)


class ForkedKernelClient(BuildKernelClient):
    """A build's client (BuildKernelClient), but ready as soon as the kernel has answered kernel_info on the shell
    channel and said on IOPub that it is idle after it, instead of after IOPub has been silent for 0.2 s
    (jupyter_client's way to drain messages of unknown origin; a kernel just forked from the template has said nothing
    else). IOPub is known to be connected once that status arrives; if it does not within 0.05 s (a subscription still
    joining), kernel_info is asked again, as jupyter_client does."""

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            request = self.kernel_info()
            try:
                reply = await ensure_async(self.shell_channel.get_msg(timeout=1))
            except Empty:
                reply = None
            if reply is not None and reply["msg_type"] == "kernel_info_reply":
                while True:
                    try:
                        msg = await ensure_async(self.iopub_channel.get_msg(timeout=0.05))
                    except Empty:
                        break
                    if (msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle"
                            and msg["parent_header"].get("msg_id") == request):
                        self._handle_kernel_info_reply(reply)
                        return
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:g} seconds")

    wait_for_ready = _async_wait_for_ready  # the async client binds its public name to the base's coroutine


class ForkingKernelManager(BuildKernelManager):
    """A BuildKernelManager whose kernels are forked from the worker's template (and whose client does not wait for
    IOPub to fall silent, ForkedKernelClient)."""

    client_factory = Type(ForkedKernelClient, klass=AsyncKernelClient)

    async def _async_pre_start_kernel(self, **kw: Any) -> tuple[list[str], dict[str, Any]]:
        if self.provisioner is None:
            self.kernel_id = self.kernel_id or kw.pop("kernel_id", None) or str(uuid.uuid4())
            self.provisioner = ForkingProvisioner(kernel_id=self.kernel_id, kernel_spec=self.kernel_spec, parent=self)
        return await super()._async_pre_start_kernel(**kw)


def start_spare(kernel_name: str, cwd: str, env: dict[str, str]) -> None:
    """Fork the next variant's kernel now, while this variant is rendered: by the time the next one asks for a kernel
    (take_spare) it has started and answers at once. It is a fork of the template like any other, which has run no
    notebook code, started with the options a client would give it (KERNEL_ARGUMENTS); one that is not taken
    (another folder or environment) is shut down unused."""
    global _spare
    take_spare(None, {})  # one that no variant took is shut down
    km = ForkingKernelManager(kernel_name=kernel_name)
    run_sync(km.start_kernel)(cwd=cwd, env=env, extra_arguments=list(KERNEL_ARGUMENTS))
    _spare = (_where(cwd, env), km)


def take_spare(cwd: str | None, env: dict[str, str]) -> ForkingKernelManager | None:
    """The kernel start_spare forked, if it was started in ``cwd`` with ``env`` and is alive; else None (and it is
    shut down). The caller owns the kernel it is given and shuts it down after its variant."""
    global _spare
    spare, _spare = _spare, None
    if spare is None:
        return None
    key, km = spare
    if key == _where(cwd, env) and km.provisioner is not None and km.provisioner.process.poll() is None:
        return km
    _discard(km)
    return None


def _where(cwd: str | None, env: dict[str, str]) -> tuple:
    """What a spare kernel must have been started with to be taken: the folder and the environment."""
    return cwd, tuple(sorted(env.items()))


def _discard(km: ForkingKernelManager) -> None:
    try:
        run_sync(km.shutdown_kernel)(now=True)
    except Exception:  # already gone (a watchdog's kill)
        pass
