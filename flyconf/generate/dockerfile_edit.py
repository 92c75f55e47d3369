"""Edit a Dockerfile so that the image starts through the generated wrapper.

Only the lines that must change are touched: a COPY of the script (with its run
bit) is inserted before the start instructions of the target stage, ENTRYPOINT
gets the script (after an existing wrapper such as `tini --`, `dumb-init` or
`litefs mount --`), and the server command stays CMD, in exec form. Comments,
blank lines, other stages and line endings are kept. Editing twice changes
nothing the second time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flyconf.sources.base import lines_with_ends
from flyconf.sources.dockerfile import Dockerfile, Instruction


class EditError(ValueError):
    """The Dockerfile cannot be edited safely; the message says why and what to do."""


DEFAULT_IMAGE_PATH = "/usr/local/bin/fly-entrypoint"


@dataclass(frozen=True)
class DockerfileEdit:
    text: str
    changed: bool
    summary: list[str]


def _argv(ins: Instruction) -> list[str]:
    try:
        return ins.argv(strict=True)  # an edit must not guess how a broken command splits
    except ValueError as exc:
        raise EditError(f"{ins.cmd} on line {ins.start_line} cannot be split into arguments: {exc}") from None


def _exec_form(cmd: str, argv: list[str]) -> str:
    return f"{cmd} {json.dumps(argv)}"


# Init programs that stay in front of the wrapper: they reap zombies and forward signals for whatever runs.
_INITS = frozenset({"tini", "tini-static", "dumb-init", "catatonit"})


def _init_prefix(argv: list[str]) -> int:
    """How many leading words of an ENTRYPOINT are an init program (`tini --`, `dumb-init`), with its options."""
    i = 0
    while i < len(argv) and argv[i].rsplit("/", 1)[-1] in _INITS:
        i += 1
        while i < len(argv) and argv[i].startswith("-"):
            i += 1
            if argv[i - 1] == "--":
                break
    return i


def add_entrypoint(
    df: Dockerfile,
    *,
    script: str = "bin/fly-entrypoint",
    image_path: str = DEFAULT_IMAGE_PATH,
    target: str | None = None,
    first: bool = False,
) -> DockerfileEdit:
    """The Dockerfile's text with the wrapper as ENTRYPOINT (``script`` is relative to the build context).

    The wrapper goes after an existing ENTRYPOINT, so that it runs what that starts; with ``first`` it goes
    before it (after an init program such as `tini --`): for an image that starts as root and whose
    ENTRYPOINT switches to another user, the wrapper must run as root, before the switch.
    """
    stage = df.target_stage(target)
    if stage is None:
        raise EditError("the Dockerfile has no FROM instruction")
    eff = df.effective(target)
    ep, cmd = eff.entrypoint, eff.cmd
    ep_argv = _argv(ep) if ep is not None else []
    if any(a == image_path or a.endswith("/fly-entrypoint") for a in ep_argv):
        return DockerfileEdit(df.text, False, ["the image already starts through the wrapper"])

    if ep_argv and ep_argv[0].rsplit("/", 1)[-1] == "litefs" and "--" not in ep_argv:
        raise EditError(
            "ENTRYPOINT runs `litefs mount`, which starts the server from litefs.yml's `exec` section: put the "
            "migration there, before the server, with `if-candidate: true`, instead of using the wrapper"
        )
    if cmd is not None:
        server = _argv(cmd)
        at = _init_prefix(ep_argv) if first else len(ep_argv)
        new_ep = ep_argv[:at] + [image_path] + ep_argv[at:]
    elif ep is not None:
        # No CMD: the ENTRYPOINT is the server itself; it becomes the CMD behind the wrapper (behind an init).
        at = _init_prefix(ep_argv)
        server, new_ep = ep_argv[at:], ep_argv[:at] + [image_path]
    else:
        raise EditError("the Dockerfile has no CMD or ENTRYPOINT, so there is no server command to wrap; "
                        'add one, such as CMD ["npm", "run", "start"]')
    if not server:
        raise EditError("the server command (CMD) is empty")

    lines = lines_with_ends(df.text)  # numbered as BuildKit numbers instructions
    newline = "\r\n" if lines and lines[0].endswith("\r\n") else "\n"
    final = stage.instructions
    in_stage = {ins.index for ins in final}
    start_ins = [i for i in (ep, cmd) if i is not None and i.index in in_stage]
    copy_line = f"COPY --chmod=755 {script} {image_path}{newline}"
    ep_line = _exec_form("ENTRYPOINT", new_ep) + newline
    cmd_line = _exec_form("CMD", server) + newline

    replace: dict[int, tuple[int, str]] = {}  # first line index -> (last line index, new text)
    summary = [f"COPY {script} into the image at {image_path} with its run bit"]
    if start_ins:
        earliest = min(start_ins, key=lambda i: i.start_line)
        insert_at = earliest.start_line - 1
        # Insert above a comment block that introduces the start instruction, so it stays with it.
        while insert_at > 0 and lines[insert_at - 1].lstrip().startswith("#"):
            insert_at -= 1
    else:
        last = final[-1] if final else stage.from_instruction
        insert_at = last.end_line
    additions = [copy_line]
    cmd_here = cmd is not None and cmd.index in in_stage
    # The CMD must be (re)stated in this stage when it is inherited (a new ENTRYPOINT resets it)
    # or when there was none (the old ENTRYPOINT was the server).
    restate_cmd = not cmd_here
    if ep is not None and ep.index in in_stage:
        replace[ep.start_line - 1] = (ep.end_line - 1, ep_line + (cmd_line if restate_cmd else ""))
    else:
        additions.append(ep_line)
        if restate_cmd:
            additions.append(cmd_line)
    summary.append(f"ENTRYPOINT {json.dumps(new_ep)}")
    if restate_cmd:
        summary.append(f"CMD {json.dumps(server)}")
    elif cmd is not None and not cmd.json:
        replace[cmd.start_line - 1] = (cmd.end_line - 1, cmd_line)
        summary.append(f"CMD in exec form: {json.dumps(server)}")

    out: list[str] = []
    i = 0
    while i < len(lines):
        if i == insert_at:
            out.extend(additions)
        if i in replace:
            last_line, text = replace[i]
            out.append(text)
            i = last_line + 1
            continue
        out.append(lines[i])
        i += 1
    if insert_at >= len(lines):
        if out and not out[-1].endswith(("\n", "\r\n")):
            out[-1] += newline
        out.extend(additions)
    text = "".join(out)
    return DockerfileEdit(text, text != df.text, summary)
