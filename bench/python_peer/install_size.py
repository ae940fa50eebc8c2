"""Prints the bytes the Python peer installs: the files of every distribution
that python_peer/requirements.txt pulls in (extras included), without the
interpreter and without the plotting packages that share bench/.venv.
Run with bench/.venv/bin/python; bench/run reports it as the peer's size."""

import os
from importlib import metadata

from packaging.requirements import Requirement


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    pending = []
    with open(os.path.join(here, "requirements.txt")) as file:
        for line in file:
            line = line.split("#", 1)[0].strip()
            if line:
                pending.append(Requirement(line))
    seen, total = set(), 0
    while pending:
        requirement = pending.pop()
        name = requirement.name.lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            dist = metadata.distribution(requirement.name)
        except metadata.PackageNotFoundError:
            continue
        for path in dist.files or []:
            located = dist.locate_file(path)
            if os.path.isfile(located):
                total += os.path.getsize(located)
        extras = requirement.extras or {""}
        for text in dist.requires or []:
            child = Requirement(text)
            if child.marker is None or any(child.marker.evaluate({"extra": extra}) for extra in extras):
                pending.append(child)
    print(total)


if __name__ == "__main__":
    main()
