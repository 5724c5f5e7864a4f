# Makes passlib-scrypt.txt, the test vectors of password_test.go.
# Needs Debian's python3-passlib:
#   /usr/bin/python3 security/testdata/passlib-scrypt.py > security/testdata/passlib-scrypt.txt
import json, passlib
from passlib.hash import scrypt
print("# scrypt hashes made by Python's passlib %s; one JSON object per line." % passlib.__version__)
print("# Regenerate with: /usr/bin/python3 security/testdata/passlib-scrypt.py > security/testdata/passlib-scrypt.txt")
cases = [("hunter2", 4, 8, 1), ("", 4, 8, 1), ("correct horse battery staple", 10, 8, 1),
         ("pässwörd ✓ 密码", 6, 8, 2), ("x" * 1024, 4, 4, 1), ("tab\tnewline\n", 5, 1, 3),
         ("default cost", 17, 8, 1), ("passlib default", 16, 8, 1)]
for pw, ln, r, p in cases:
    h = scrypt.using(rounds=ln, block_size=r, parallelism=p).hash(pw)
    assert scrypt.verify(pw, h)
    print(json.dumps({"password": pw, "hash": h}, ensure_ascii=False))
