"""Log templates: the hot path of the log scan, a memo of `scan_logs` guarded by exact checks.

Finding the frame of each `Program data:` line needs the invoke stack, which depends on every
`invoke` / `success` / `failed` line before it; reading ~70 lines one by one in Python costs
~100 us on the project's VM. But the stack lines of a transaction are fixed runtime text
("Program <id> invoke [2]"), and transactions built by the same program path print the same
sequence of them: only data payloads, compute-unit counts and free log text change. So the
result of `scan_logs` is remembered per *template*: which lines must be exactly equal, and which
need only start with a given prefix, for `scan_logs` to read every line of a notification the way
it read the first one.

The rules (they follow `scan_logs` line by line): a `Program data: ` or `Program log: ` line is
read by its prefix alone; any other `Program ` line with at least four space-separated parts is
read from its first three (`Program <id> consumed `, `Program <id> failed: `,
`Program return: <id> `), so those three parts are the prefix; an `invoke` line is read whole
(`invoke [1]` vs deeper), and so is every other line. A notification matches a template when it
has the same number of lines, every exact line is equal and every prefix line starts with its
prefix: then `scan_logs` would take the same branch on every line, so it would find the same
events, in the same frames, with no anomaly (templates are only learned from scans without
anomalies or truncation). That holds for any input, not only for runtime-shaped logs; nothing
here relies on line content the checks did not compare.

Log text and return data (`Program log: `, `Program return: <id> `) mostly repeat too, and a
whole-line comparison is several times cheaper than a prefix test, so they start as exact lines
("soft"); when a notification matches a template except in some soft lines, those lines are read
by prefix from then on (`Template.generalize`).

Checks are C-level: `itemgetter` and one tuple comparison for the exact lines, and for each
prefix line `p <= line < p'` (`p'` = `p` with its last character incremented, which is the same
as `line.startswith(p)` and cheaper to call through `map`); one exact line chosen to tell
templates of the same key apart (`probe`) is compared first. About 6 us for a 70-line
notification on the project's VM. Lookup is by (line count, first line, last line), at most
`PER_KEY` templates per key. The cache is bounded; a miss costs the line-by-line scan, and the
second miss of a key also learns its template.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from operator import itemgetter, le, lt

DATA_PREFIX = "Program data: "
LOG_PREFIX = "Program log: "
PROGRAM_PREFIX = "Program "
RETURN_PREFIX = "Program return: "
PER_KEY = 4
MAX_TEMPLATES = 4096

Getter = Callable[[Sequence[str]], tuple[str, ...]]
# (line index, program, top-level frame ordinal, inner index) of each event data line
TemplateEvent = tuple[int, str, int, int | None]


def _getter(indices: Sequence[int]) -> Getter:
    """The lines at `indices`, always as a tuple (itemgetter returns a bare item for one index)."""
    if not indices:
        return lambda lines: ()
    if len(indices) == 1:
        (only,) = indices
        return lambda lines: (lines[only],)
    getter: Getter = itemgetter(*indices)
    return getter


class Template:
    __slots__ = (
        "checks",
        "events",
        "exact",
        "exact_at",
        "hard",
        "hard_at",
        "prefix_at",
        "prefix_ends",
        "prefixes",
        "probe",
        "probe_at",
        "soft",
    )

    def __init__(
        self,
        checks: list[tuple[bool, str]],
        soft: dict[int, str],
        events: tuple[TemplateEvent, ...],
        probe_at: int = -1,
    ) -> None:
        self.checks = checks  # (exact, text) per line
        self.soft = soft  # line -> prefix, for the exact lines that a prefix would do for
        self.events = events
        self.probe_at = probe_at if probe_at >= 0 and checks[probe_at][0] else -1
        self._compile()

    def _compile(self) -> None:
        checks = self.checks
        exact_at = [i for i, (whole, _) in enumerate(checks) if whole]
        prefix_at = [i for i, (whole, _) in enumerate(checks) if not whole]
        self.exact_at = _getter(exact_at)
        self.exact = tuple(checks[i][1] for i in exact_at)
        hard_at = [i for i in exact_at if i not in self.soft]
        self.hard_at = _getter(hard_at)
        self.hard = tuple(checks[i][1] for i in hard_at)
        self.prefix_at = _getter(prefix_at)
        self.prefixes = tuple(checks[i][1] for i in prefix_at)
        # `line.startswith(p)` is `p <= line < p'`, p' = p with its last character incremented
        self.prefix_ends = tuple(p[:-1] + chr(ord(p[-1]) + 1) for p in self.prefixes)
        # one exact line compared before the rest, to pass over templates of the same key quickly
        if self.probe_at < 0:
            self.probe_at = exact_at[len(exact_at) // 2] if exact_at else -1
        self.probe = checks[self.probe_at][1] if self.probe_at >= 0 else ""

    def matches(self, lines: Sequence[str]) -> bool:
        """Raises TypeError when a checked entry is not a string."""
        if self.probe_at >= 0 and lines[self.probe_at] != self.probe:
            return False
        if self.exact_at(lines) != self.exact:
            return False
        prefixed = self.prefix_at(lines)
        return all(map(le, self.prefixes, prefixed)) and all(map(lt, prefixed, self.prefix_ends))

    def generalized(self, lines: Sequence[str]) -> Template | None:
        """This template with the soft lines `lines` differ in read by prefix, if `lines` then
        match it (a new object: a template is never changed once in use)."""
        if self.hard_at(lines) != self.hard:
            return None
        differ = []
        for at, ((whole, text), line) in enumerate(zip(self.checks, lines, strict=True)):
            if whole:
                if line == text:
                    continue
                prefix = self.soft.get(at)
                if prefix is None or not line.startswith(prefix):
                    return None
                differ.append(at)
            elif not line.startswith(text):
                return None
        checks = list(self.checks)
        soft = dict(self.soft)
        for at in differ:
            checks[at] = (False, soft.pop(at))
        return Template(checks, soft, self.events, self.probe_at)

    def discriminate(self, other: Template) -> None:
        """Probe a line where `other` (a template of the same key) checks something else."""
        if self.probe_at >= 0 and other.checks[self.probe_at] != self.checks[self.probe_at]:
            return
        for at, check in enumerate(self.checks):
            if check[0] and other.checks[at] != check:
                self.probe_at, self.probe = at, check[1]
                return


_templates: dict[tuple[int, str, str], list[Template]] = {}
_count = 0
_lines: dict[str, str] = {}  # one copy of each exact line text kept by the templates
_seen: dict[tuple[int, str, str], None] = {}  # keys missed once, not learned yet
MAX_SEEN = 16384


def find(lines: Sequence[str]) -> Template | None:
    """The template `lines` match, if one was learned. `lines` must not be empty.

    Raises TypeError when an entry it looks at is not a hashable string-like value; the caller
    treats that as malformed input.
    """
    candidates = _templates.get((len(lines), lines[0], lines[-1]))
    if candidates is not None:
        for template in candidates:
            if template.matches(lines):
                return template
        for at, template in enumerate(candidates):
            if template.soft:
                wider = template.generalized(lines)
                if wider is not None:
                    candidates[at] = wider
                    return wider
    return None


def line_check(line: str) -> tuple[bool, str]:
    """(exact, text): the check under which `scan_logs` reads any line passing it like `line`."""
    if line.startswith(DATA_PREFIX):
        return False, DATA_PREFIX
    if line.startswith(LOG_PREFIX):
        return False, LOG_PREFIX
    if line.startswith(PROGRAM_PREFIX):
        parts = line.split(" ", 3)
        if len(parts) == 4 and parts[2] != "invoke":
            return False, f"{parts[0]} {parts[1]} {parts[2]} "
    return True, line


def remember(lines: Sequence[str], events: tuple[TemplateEvent, ...]) -> Template | None:
    """Learn the scan of `lines` (which must have had no anomaly and no truncation) when its key
    (line count, first and last line) was seen before: a notification whose shape never recurs
    costs only its scan, not the learning as well."""
    key = (len(lines), lines[0], lines[-1])
    if key not in _templates and key not in _seen:
        if len(_seen) >= MAX_SEEN:
            _seen.clear()
        _seen[key] = None
        return None
    _seen.pop(key, None)
    return learn(lines, events)


def learn(lines: Sequence[str], events: tuple[TemplateEvent, ...]) -> Template:
    """Remember the scan of `lines` (which must have had no anomaly and no truncation)."""
    global _count
    checks = []
    soft = {}
    for at, line in enumerate(lines):
        whole, text = line_check(line)
        if not whole and (text == LOG_PREFIX or text.startswith(RETURN_PREFIX)):
            # log text and return data mostly repeat: compared whole until they do not
            soft[at] = text
            whole, text = True, line
        checks.append((whole, _lines.setdefault(text, text) if whole and at not in soft else text))
    template = Template(checks, soft, events)
    if _count >= MAX_TEMPLATES:
        clear()
    key = (len(lines), lines[0], lines[-1])
    siblings = _templates.setdefault(key, [])
    if len(siblings) >= PER_KEY:
        siblings.pop()
        _count -= 1
    for sibling in siblings:
        template.discriminate(sibling)
        sibling.discriminate(template)
    siblings.insert(0, template)
    _count += 1
    return template


def clear() -> None:
    global _count
    _templates.clear()
    _lines.clear()
    _seen.clear()
    _count = 0


def size() -> int:
    return _count
