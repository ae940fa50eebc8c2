# Runs the 2020 Python worker under a current host: the host passes its
# arguments twice (the --functions-* set came later), and that worker's
# argument parser refuses options it does not know.
import sys
from azure_functions_worker import main

known = {"--host", "--port", "--workerId", "--requestId", "--grpcMaxMessageLength"}
args, rest = [], sys.argv[1:]
while rest:
    name, value, rest = rest[0], rest[1:2], rest[2:]
    if name in known:
        args += [name] + value
sys.argv = [sys.argv[0]] + args
if __name__ in ("__main__", "worker"):
    main.main()
