"""Records a real Next.js Turbopack production build as a test fixture (tests/data/turbopack/).

`next build` needs more time and memory than the test suite may spend, so it runs here, once, by
hand: `python tests/record_turbopack.py WORKDIR` writes a small Next.js app into WORKDIR (which
may already hold `node_modules` with `next`, `react`, `react-dom`, `typescript`, `@types/react`
and `@types/node`; otherwise they are installed), builds it with Turbopack and
`productionBrowserSourceMaps`, and copies the app's sources and the build files that hold a
planted value — browser chunks with their maps, server (SSR and route) chunks — into the fixture.

No key is recorded: each planted value is a placeholder of the same length as the fake key a
test puts in its place (tests/sources/bundles/test_turbopack.py rewrites the recorded files), so every mapping
column stays true.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = ("next", "react", "react-dom", "typescript", "@types/react", "@types/node")
HERE = Path(__file__).resolve().parent
FIXTURE = HERE / "data" / "turbopack"
# label → (rule whose fake key takes the placeholder's place, key length)
PLANTS = {"env": 164, "code": 108, "firebase": 39}
FIREBASE_PROJECT = "demo-chat-4821"


# the public env name, as long as the one a test puts in its place (`NEXT_PUBLIC_OPENAI_API_KEY`),
# so that the recording itself holds no exposure construct (the project scans itself clean)
ENV_NAME = "NEXT_PUBLIC_PLANTED_ENV_XX"


def placeholder(label: str) -> str:
    """`KEYSWEEP_PLANT_<label>_xxx…`, as long as the key it stands for."""
    head = f"KEYSWEEP_PLANT_{label}_"
    return head + "x" * (PLANTS[label] - len(head))


def app_files() -> dict[str, str]:
    return {
        "package.json": json.dumps({"name": "tp-demo", "private": True, "scripts": {"build": "next build"}}),
        "next.config.mjs": "export default { productionBrowserSourceMaps: !!1 };\n",
        ".env.production": f"{ENV_NAME}={placeholder('env')}\n",
        "app/layout.tsx": (
            "export default function RootLayout({ children }: { children: React.ReactNode }) {\n"
            '  return (\n    <html lang="en">\n      <body>{children}</body>\n    </html>\n  );\n}\n'
        ),
        "app/page.tsx": 'import Chat from "./components/Chat";\n\nexport default function Page() {\n  return <Chat />;\n}\n',
        "app/components/Chat.tsx": (
            '"use client";\n'
            'import { useState } from "react";\n\n'
            "const firebaseConfig = {\n"
            f'  apiKey: "{placeholder("firebase")}",\n'
            f'  authDomain: "{FIREBASE_PROJECT}.firebaseapp.com",\n'
            f'  projectId: "{FIREBASE_PROJECT}",\n'
            '  messagingSenderId: "418204117623",\n'
            '  appId: "1:418204117623:web:5a0c2f4e9b1d7c3e",\n'
            "};\n\n"
            f'const anthropicKey = "{placeholder("code")}";\n'
            "(globalThis as any).firebaseConfig = firebaseConfig;\n\n"
            "export default function Chat() {\n"
            '  const [reply, setReply] = useState("");\n'
            "  async function send() {\n"
            '    const r = await fetch("https://api.openai.com/v1/responses", {\n'
            '      method: "POST",\n'
            "      headers: { Authorization: `Bearer ${process.env." + ENV_NAME + "}` },\n"
            "    });\n"
            '    const a = await fetch("https://api.anthropic.com/v1/models", { headers: { "x-api-key": anthropicKey } });\n'
            "    setReply((await r.text()) + (await a.text()));\n"
            "  }\n"
            "  return (\n"
            "    <div data-project={firebaseConfig.projectId} data-k={anthropicKey.length}>\n"
            "      <button onClick={send}>Send</button>\n"
            "      <p>{reply}</p>\n"
            "    </div>\n"
            "  );\n"
            "}\n"
        ),
        "app/api/chat/route.ts": (
            "export async function POST(req: Request) {\n"
            '  return fetch("https://api.anthropic.com/v1/messages", {\n'
            '    method: "POST",\n'
            "    headers: {\n"
            '      "x-api-key": process.env.ANTHROPIC_API_KEY ?? "",\n'
            '      "anthropic-dangerous-direct-browser-access": "true",\n'
            "    },\n"
            "    body: await req.text(),\n"
            "  });\n"
            "}\n"
        ),
    }


def _holds_plant(data: bytes) -> bool:
    return any(placeholder(label).encode() in data for label in PLANTS) or (
        b"anthropic-dangerous-direct-browser-access" in data
    )


def record(work: Path) -> None:
    work.mkdir(parents=True, exist_ok=True)
    for rel, text in app_files().items():
        p = work / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text)
    if not (work / "node_modules" / "next").exists():
        subprocess.run(
            ["npm", "install", "--no-audit", "--no-fund", *PACKAGES],
            cwd=work,
            check=True,
        )
    shutil.rmtree(work / ".next", ignore_errors=True)
    env = {**os.environ, "NEXT_TELEMETRY_DISABLED": "1", "NODE_ENV": "production"}
    subprocess.run(
        [str(work / "node_modules" / ".bin" / "next"), "build", "--turbopack"], cwd=work, check=True, env=env
    )
    shutil.rmtree(FIXTURE, ignore_errors=True)
    for rel in app_files():
        if rel not in (".env.production", "next.config.mjs"):
            dst = FIXTURE / "app" / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(work / rel, dst)
    version = json.loads((work / "node_modules" / "next" / "package.json").read_text())["version"]
    kept = []
    for path in sorted((work / ".next").rglob("*.js")):
        rel = path.relative_to(work)
        data = path.read_bytes()
        if "cache" in rel.parts or not _holds_plant(data):
            continue
        files = [path]
        if "static" in rel.parts:  # a browser chunk's map, as its comment names it (server maps: not needed)
            named = re.findall(rb"sourceMappingURL=(\S+)", data[-4096:])
            files += [path.parent / n.decode() for n in named[-1:]]
        for f in files:
            if f.exists():
                dst = FIXTURE / "app" / f.relative_to(work)
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(f, dst)
                kept.append(f.relative_to(work).as_posix())
    (FIXTURE / "RECORDED.json").write_text(json.dumps({"next": version, "files": kept}, indent=2) + "\n")


if __name__ == "__main__":
    record(Path(sys.argv[1]).resolve())
