"""Who may read what: the per-program layout of the restricted outputs, and the users file.

The site's restricted outputs sit in one folder per program, so that a web server (or file
permissions) can give each manager their own programs only:

    restricted/<program-slug>/at_risk.html, comments.html, matches.json
    digest/<program-slug>/latest.html, digest-<D>.html, state-<D>.json
    operator/digest.html          the data problems (quarantine, failed tables): operators only

The users file (TOML, mode 0600; `mentorpulse user add` writes it) names each user's programs
and a salted password hash (werkzeug.security: scrypt with a random salt):

    [users.ana]
    password = "scrypt:32768:8:1$…"
    programs = ["Engineering"]       # program names as the roster spells them; "*": all
    operator = false                 # true: also the operator's digest
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

RESTRICTED = "restricted"
DIGEST = "digest"
OPERATOR = "operator"
ALL_PROGRAMS = "*"
# Each program folder's list of its match ids: what the follow-up form may be posted for.
MATCHES_FILE = "matches.json"


def program_slug(program: str) -> str:
    """A program's folder name: lower-case letters, digits and dashes, never empty or dotted."""
    plain = unicodedata.normalize("NFKD", program).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", plain.lower()).strip("-")
    return slug or "program"


def program_folders(programs: list[str]) -> dict[str, str]:
    """Each program's folder name; two programs that would share one are refused, since one
    folder would then give each program's managers the other's names."""
    folders: dict[str, str] = {}
    for program in programs:
        slug = program_slug(program)
        if slug in folders:
            raise ValueError(
                f"programs {folders[slug]!r} and {program!r} would share the folder {slug!r}: "
                "rename one in the roster"
            )
        folders[slug] = program
    return {program: slug for slug, program in folders.items()}


@dataclass(frozen=True)
class User:
    name: str
    password_hash: str | None
    programs: tuple[str, ...]
    operator: bool = False

    @property
    def slugs(self) -> frozenset[str] | None:
        """The program folders this user may read and write; None: every program."""
        if ALL_PROGRAMS in self.programs:
            return None
        return frozenset(program_slug(p) for p in self.programs)

    def may_read(self, slug: str) -> bool:
        slugs = self.slugs
        return slugs is None or slug in slugs


class UsersFileError(ValueError):
    pass


def load_users(path: Path) -> dict[str, User]:
    """The users of the file (none when it does not exist)."""
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise UsersFileError(f"{path}: not valid TOML ({error})") from error
    users = {}
    for name, entry in (data.get("users") or {}).items():
        programs = entry.get("programs", [])
        if not isinstance(programs, list) or not all(isinstance(p, str) for p in programs):
            raise UsersFileError(f"{path}: users.{name}.programs must be a list of names")
        password = entry.get("password")
        if password is not None and not isinstance(password, str):
            raise UsersFileError(f"{path}: users.{name}.password must be a hash string")
        users[name] = User(name, password, tuple(programs), bool(entry.get("operator", False)))
    return users


def save_users(path: Path, users: dict[str, User]) -> Path:
    """Write the users file atomically, mode 0600 from its first byte."""
    lines = ["# Mentor Pulse users: `mentorpulse user add NAME --program P` (passwords hashed)"]
    for user in sorted(users.values(), key=lambda u: u.name):
        lines += ["", f"[users.{json.dumps(user.name)}]"]
        if user.password_hash:
            lines.append(f"password = {json.dumps(user.password_hash)}")
        lines.append(f"programs = {json.dumps(list(user.programs), ensure_ascii=False)}")
        lines.append(f"operator = {'true' if user.operator else 'false'}")
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return path
