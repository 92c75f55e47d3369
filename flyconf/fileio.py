"""Writing files: inside the project directory, atomically, and all of a change or none of it.

Every file flyconf writes (`fix`, `generate`, Compose fixes, :func:`flyconf.generate.entrypoint.write_entrypoint`,
`--output`) goes through :func:`write_files`:

- a target must resolve to a regular file (or a new one) inside its root (the project directory): a path named
  with `..`, an absolute path elsewhere, a symlinked file or parent directory (a symlinked `bin/`) whose target is
  outside are refused with :class:`UnsafeWrite`. A symlinked file whose target is inside stays a symlink: its target
  is written.
- the directories are opened from the root one component at a time without following symlinks (``O_NOFOLLOW``),
  so a link planted after the check is refused, not followed.
- each file is written to a temporary file beside its target with the target's mode, owner (when this process may
  give it: as root) and UTF-8 BOM, then all are renamed over their targets. The originals are kept as hard links
  (or copies) until every rename succeeded; on any failure every target is put back as it was, new files and new
  directories are removed, and :class:`WriteError` says what failed. No temporary file is left behind.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

__all__ = ["UnsafeWrite", "Write", "WriteError", "write_root", "write_roots", "write_atomic", "write_files",
           "write_problem"]

BOM = b"\xef\xbb\xbf"


class WriteError(OSError):
    """Files could not be written; the message says which and why, and that nothing was changed."""


class UnsafeWrite(WriteError):
    """A target is outside its project directory, reached through a symlink out of it, or not a regular file."""


@dataclass(frozen=True)
class Write:
    """One file to write: its path, its new text and the project directory it must stay in.

    ``mode`` is a new file's permission bits (an existing file keeps its own); None: 0666 less the umask.
    """

    path: Path
    text: str
    root: Path
    mode: int | None = None


def write_roots(paths: Sequence[str | os.PathLike[str]]) -> tuple[Path, ...]:
    """The project directories a command was pointed at: each directory named, or the directory of each file.

    Writes stay inside these (fix and generate change only what they were pointed at); reads may go wider, to
    the repository (:func:`flyconf.sources.base.project_root`)."""
    from flyconf.sources.base import is_directory, real_path  # the never-raising checks every reader uses

    out = [real_path(path if is_directory(path) else path.parent) for path in map(Path, paths)]
    return tuple(dict.fromkeys(out))


def write_root(path: str | os.PathLike[str], roots: Sequence[Path] = ()) -> Path:
    """The directory a write to the file at ``path`` must stay in: the deepest of ``roots`` that holds it, else
    the file's own directory."""
    from flyconf.sources.base import real_path

    here = real_path(Path(path).parent)
    holding = [r for r in roots if _inside(str(here), str(r))]
    return max(holding, key=lambda r: len(r.parts)) if holding else here


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _locate(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> tuple[str, list[str]]:
    """The real root and the target's components below it, after every symlink; UnsafeWrite when it leaves."""
    shown = os.fspath(path)
    try:
        real_root = os.path.realpath(root)
        real = os.path.realpath(os.path.abspath(path))
    except (OSError, ValueError) as exc:
        raise UnsafeWrite(f"{shown}: cannot resolve the path ({exc})") from None
    if not _inside(real, real_root) or real == real_root:
        via = "" if os.path.abspath(path) == real else f" (it resolves to {real}, through a symbolic link)"
        raise UnsafeWrite(f"{shown} is outside the project directory {real_root}{via}: flyconf writes only inside it")
    return real_root, os.path.relpath(real, real_root).split(os.sep)


def write_problem(path: str | os.PathLike[str], root: str | os.PathLike[str]) -> str | None:
    """Why :func:`write_files` would refuse to write ``path`` in ``root`` (None: it would write it).

    For planning: a change that cannot be written is declined with this reason instead of failing later.
    """
    try:
        real_root, parts = _locate(path, root)
        target = os.path.join(real_root, *parts)
        st = os.lstat(target)
    except UnsafeWrite as exc:
        return str(exc)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return f"{os.fspath(path)}: {exc.strerror or exc}"
    if not stat.S_ISREG(st.st_mode):
        return f"{os.fspath(path)} is not a regular file"
    return None


@dataclass
class _Prepared:
    write: Write
    dir_fd: int
    name: str
    tmp: str | None = None
    backup: str | None = None  # the original, kept until every rename succeeded
    created_dirs: list[tuple[int, str]] = field(default_factory=list)  # (parent fd, name), outermost first
    renamed: bool = False


def write_files(writes: Sequence[Write]) -> list[Path]:
    """Write every file or none: see the module's docstring. Returns the paths written.

    Raises :class:`UnsafeWrite` for a target outside its root, and :class:`WriteError` for any other failure
    (after putting every file back as it was).
    """
    prepared: list[_Prepared] = []
    fds: list[int] = []
    try:
        try:
            for w in writes:
                prepared.append(_prepare(w, fds))
        except WriteError:
            raise
        except OSError as exc:
            raise WriteError(f"{_shown(w, exc)}; nothing was written") from exc
        done: list[_Prepared] = []
        try:
            for p in prepared:
                assert p.tmp is not None
                os.replace(p.tmp, p.name, src_dir_fd=p.dir_fd, dst_dir_fd=p.dir_fd)
                p.renamed = True
                done.append(p)
        except BaseException as exc:  # an interrupt too: never leave some files renamed and others not
            failed = _restore(done)
            if not isinstance(exc, OSError):
                raise
            where = _shown(p.write, exc)
            if failed:
                raise WriteError(f"{where}; restoring the files already written failed too: {'; '.join(failed)}") \
                    from exc
            raise WriteError(f"{where}; every file was put back as it was") from exc
        for p in prepared:
            try:
                os.fsync(p.dir_fd)
            except OSError:
                pass  # the renames are done; durability of the directory entry is best effort
        return [p.write.path for p in prepared]
    finally:
        _clean(prepared)
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass


def _shown(w: Write, exc: OSError) -> str:
    if isinstance(exc, WriteError):
        return str(exc)
    return f"{os.fspath(w.path)}: {exc.strerror or exc}"


def _open_dir(name: str, dir_fd: int | None) -> int:
    flags = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    return os.open(name, flags, dir_fd=dir_fd)


def _prepare(w: Write, fds: list[int]) -> _Prepared:
    real_root, parts = _locate(w.path, w.root)
    shown = os.fspath(w.path)
    fd = _open_dir(real_root, None)
    fds.append(fd)
    created: list[tuple[int, str]] = []
    p: _Prepared | None = None
    try:
        for part in parts[:-1]:
            try:
                child = _open_dir(part, fd)
            except FileNotFoundError:
                os.mkdir(part, 0o777, dir_fd=fd)
                created.append((fd, part))
                child = _open_dir(part, fd)
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise UnsafeWrite(f"{shown}: {part} is a symbolic link or not a directory; not followed") \
                        from None
                raise
            fds.append(child)
            fd = child
        name = parts[-1]
        p = _Prepared(w, fd, name, created_dirs=created)
        created = []  # from here on, p owns them
        try:
            st: os.stat_result | None = os.stat(name, dir_fd=fd, follow_symlinks=False)
        except FileNotFoundError:
            st = None
        data = w.text.encode("utf-8")
        if st is not None:
            if not stat.S_ISREG(st.st_mode):
                raise UnsafeWrite(f"{shown} is not a regular file")
            if not data.startswith(BOM) and _starts_with_bom(name, fd):
                data = BOM + data  # the file had one; the text was read without it
        tmp = f".{name}.flyconf-{secrets.token_hex(4)}.tmp"
        out = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                      | getattr(os, "O_CLOEXEC", 0), 0o600, dir_fd=fd)
        p.tmp = tmp
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(out, view):]
            if st is not None:
                _give(out, st)
                os.fchmod(out, stat.S_IMODE(st.st_mode))
            else:
                os.fchmod(out, w.mode if w.mode is not None else 0o666 & ~_umask())
            os.fsync(out)
        finally:
            os.close(out)
        if st is not None:
            p.backup = _keep_original(name, fd, st)
        return p
    except BaseException:
        for parent, made in reversed(created):
            try:
                os.rmdir(made, dir_fd=parent)
            except OSError:
                pass
        if p is not None:
            _clean([p])
        raise


def _starts_with_bom(name: str, fd: int) -> bool:
    try:
        src = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0), dir_fd=fd)
    except OSError:
        return False
    try:
        return os.read(src, 3) == BOM
    finally:
        os.close(src)


def _give(fd: int, st: os.stat_result) -> None:
    """The temporary file gets the target's owner and group where this process may set them (root may; another
    user may only give it a group it belongs to)."""
    own = os.fstat(fd)
    if (own.st_uid, own.st_gid) == (st.st_uid, st.st_gid):
        return
    try:
        os.fchown(fd, st.st_uid, st.st_gid)
    except PermissionError:
        if os.geteuid() == 0:
            raise
        try:
            os.fchown(fd, -1, st.st_gid)
        except PermissionError:
            pass


def _keep_original(name: str, fd: int, st: os.stat_result) -> str:
    """A second name for the original (a hard link; a copy where links are not allowed), to restore it from."""
    backup = f".{name}.flyconf-{secrets.token_hex(4)}.orig"
    try:
        os.link(name, backup, src_dir_fd=fd, dst_dir_fd=fd, follow_symlinks=False)
        return backup
    except OSError:
        pass
    src = os.open(name, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0), dir_fd=fd)
    try:
        out = os.open(backup, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600, dir_fd=fd)
        try:
            while chunk := os.read(src, 1 << 20):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(out, view):]
            _give(out, st)
            os.fchmod(out, stat.S_IMODE(st.st_mode))
            os.fsync(out)
        finally:
            os.close(out)
    finally:
        os.close(src)
    return backup


def _restore(done: list[_Prepared]) -> list[str]:
    """Put back what the renames in ``done`` replaced, last first; returns what could not be restored."""
    failed = []
    for p in reversed(done):
        try:
            if p.backup is not None:
                os.replace(p.backup, p.name, src_dir_fd=p.dir_fd, dst_dir_fd=p.dir_fd)
                p.backup = None
            else:
                os.unlink(p.name, dir_fd=p.dir_fd)
            p.renamed = False
        except OSError as exc:
            kept = f" (the original is kept as {p.backup})" if p.backup else ""
            failed.append(f"{os.fspath(p.write.path)}: {exc.strerror or exc}{kept}")
            p.backup = None  # never delete the only copy
    return failed


def _clean(prepared: list[_Prepared]) -> None:
    """Remove temporary files and backups, then the directories made for files that were not (or no longer)
    written, innermost first (two new files may share a new directory)."""
    for p in prepared:
        for name in (p.tmp if not p.renamed else None, p.backup):
            if name is not None:
                try:
                    os.unlink(name, dir_fd=p.dir_fd)
                except OSError:
                    pass
        p.tmp = p.backup = None
    for p in reversed(prepared):
        if not p.renamed:
            for parent, made in reversed(p.created_dirs):
                try:
                    os.rmdir(made, dir_fd=parent)
                except OSError:
                    pass
            p.created_dirs = []


def write_atomic(path: str | os.PathLike[str], text: str, *, mode: int | None = None,
                 root: str | os.PathLike[str] | None = None) -> None:
    """Write one file with :func:`write_files`; ``root`` defaults to the directory the path names."""
    target = Path(path)
    base = Path(root) if root is not None else Path(os.path.dirname(os.path.abspath(target)))
    write_files([Write(target, text, base, mode)])


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
