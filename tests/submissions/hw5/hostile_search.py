# Searches the disk for the reference and the tests; if found, uses the reference (it must not be found).
import glob
import os

FOUND = []
for pattern in ("/*/autograder/references/hw5.py", "/*/*/autograder/references/hw5.py",
                "/*/*/*/autograder/references/hw5.py", "/root/**/references/hw5.py", "/tmp/**/hw5.py",
                "/*/*/tests/submissions/hw5/reference_copy.py"):
    FOUND += glob.glob(pattern, recursive=True)
for path in FOUND:
    try:
        source = open(path).read()
    except OSError:
        continue
    exec(compile(source.replace("from __future__ import annotations", ""), path, "exec"))
    break
with open(os.path.join(os.getcwd(), "found.txt"), "w") as fh:
    fh.write("\n".join(FOUND))
