"""Find (or, as root with apt, install) a Chromium for printing reports to PDF.

Order: $CHROMIUM, then chromium / chromium-browser / google-chrome on PATH, then `apt-get install -y chromium`
when running as root on a machine with apt. Otherwise stop with a message that says how to get one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys

from .errors import ChromiumNotFound

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
HOW_TO_INSTALL = (
    "no Chromium found for printing PDFs. Install one (Debian/Ubuntu: `sudo apt-get install -y chromium`; "
    "macOS: `brew install --cask chromium`) or set CHROMIUM=/path/to/chrome, then run again"
)


def find_chromium() -> str | None:
    env = os.environ.get("CHROMIUM")
    if env:
        path = shutil.which(env) or (env if os.access(env, os.X_OK) else None)
        if not path:
            raise ChromiumNotFound(f"CHROMIUM={env} is not an executable; unset it or point it at Chromium")
        return path
    for name in CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


def ensure_chromium(install: bool = True) -> str:
    path = find_chromium()
    if path:
        return path
    if install and hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        print("kommunelab: no Chromium on PATH; installing Debian's chromium with apt-get", file=sys.stderr)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=False, env=env)
        result = subprocess.run(["apt-get", "install", "-y", "-qq", "chromium"], env=env)
        if result.returncode == 0:
            path = find_chromium()
            if path:
                return path
    raise ChromiumNotFound(HOW_TO_INSTALL)


PROXY_ENV = "KOMMUNELAB_CHROMIUM_PROXY"
BLACK_HOLE = "http://127.0.0.1:9"  # the discard port: nothing listens, so a request that slips through goes nowhere


def browser_command(chromium: str, user_data_dir: str) -> list[str]:
    """Flags for a quiet headless run: nothing fetched, nothing phoned home.

    Background services (updates, sign-in, safe browsing, metrics, field trials) are switched off. Two that ignore
    --disable-component-update and --disable-sync (the on-device-model component check and the account reconcilor's
    sign-in probe) are pointed at the local discard port, and every other request is sent to a proxy that does not
    exist ($KOMMUNELAB_CHROMIUM_PROXY names another, e.g. a logging one in tests, which sees no request at all).
    The pages printed are local files with everything inlined, which no proxy setting touches.
    """
    proxy = os.environ.get(PROXY_ENV) or BLACK_HOLE
    return [
        chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-extensions", "--mute-audio", "--no-default-browser-check", "--no-pings",
        "--disable-default-apps", "--disable-domain-reliability", "--disable-client-side-phishing-detection",
        "--disable-breakpad", "--metrics-recording-only", "--safebrowsing-disable-auto-update",
        "--dns-prefetch-disable", "--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication,"
        "CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions,NetworkTimeServiceQuerying",
        f"--component-updater=url-source={BLACK_HOLE}/", f"--gaia-url={BLACK_HOLE}/",
        f"--proxy-server={proxy}", "--proxy-bypass-list=<-loopback>", f"--user-data-dir={user_data_dir}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kommunelab.chromium", description=__doc__)
    parser.add_argument("--ensure", action="store_true", help="install with apt when missing and running as root")
    args = parser.parse_args(argv)
    try:
        path = ensure_chromium(install=args.ensure)
    except ChromiumNotFound as exc:
        print(f"kommunelab: {exc}", file=sys.stderr)
        return 1
    print(f"chromium: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
