# The in-sandbox test harness. One harness process serves exactly ONE submission inside
# its own fresh bubblewrap sandbox, then exits; the host never reuses it for another.
#
# It is started ahead of time (warm) and blocks on stdin for its job, so the sandbox and
# interpreter start are off the critical path. For each test it forks: Python solutions
# run in the forked, already-initialised interpreter (no exec, no imports to repeat);
# other languages exec their binary/interpreter from the fork. After each test every
# other process in the sandbox's PID namespace is killed and the writable dirs are wiped,
# so tests of one submission do not see each other's leftovers.
#
# Protocol (one JSON object per line): harness -> host on fd 1: {"t":"ready"}, then
# {"t":"compile",...}? {"t":"test","i":N,...}* {"t":"done","files":{...}}. host -> harness
# on fd 0: one job line. Untrusted children never hold fd 0/1 of the harness, and the
# harness makes itself non-dumpable so a child cannot open /proc/<harness>/fd/1 to forge
# messages.
import sys

# Started with -S: `site` costs more than the rest of the harness start (it scans .pth
# files). Add the system package dirs by hand so solutions can still import sympy etc.
for _d in ("/usr/local/lib/python3.%d/dist-packages" % sys.version_info[1], "/usr/lib/python3/dist-packages",
           "/usr/lib/python3.%d/dist-packages" % sys.version_info[1]):
    if _d not in sys.path:
        sys.path.append(_d)

import _signal
import builtins
import gc
import io
import json
import os
import resource
import select
import shutil
import signal
import time
import types

# Imported so that forked Python solutions find them already loaded (the zygote's point).
import bisect  # noqa: F401
import collections  # noqa: F401
import functools  # noqa: F401
import heapq  # noqa: F401
import itertools  # noqa: F401
import math  # noqa: F401
import re  # noqa: F401

CHANNEL = {"fd": os.dup(1)}
UNSAFE = os.environ.get("DATASCALE_HARNESS_UNSAFE") == "1"


def libc():
    """The C library handle, made once: every CDLL builds a new ctypes class and looks
    symbols up again, which cost a zygote child ~1 ms per submission when made per call.
    Made (with its symbols) in the zygote before forking, children share it read-only."""
    if "libc" not in LIBC:
        import ctypes

        LIBC["libc"] = ctypes.CDLL(None, use_errno=True)
    return LIBC["libc"]


LIBC = {}


def set_dumpable(flag):
    try:
        libc().prctl(4, 1 if flag else 0, 0, 0, 0)  # PR_SET_DUMPABLE
    except Exception:
        pass


def send(msg):
    write_all(CHANNEL["fd"], json.dumps(msg, separators=(",", ":")).encode() + b"\n")


JSON_STR = json.encoder.encode_basestring_ascii
JSON_BOOL = {True: b"true", False: b"false"}
TEST_LINE = (b'{"t":"test","i":%d,"result":{"status":"%s","exitCode":%s,"signal":%s,"stdout":%s,"stderr":%s,'
             b'"stdoutTruncated":%s,"stderrTruncated":%s,"wallMs":%r,"cpuMs":%r,"memoryKb":%d}}\n')


def send_test(i, r):
    """send() of a test result, formatted by hand: json.dumps makes an encoder per call
    and touches enough objects to cost the harness ~60 page faults per test after a fork."""
    write_all(CHANNEL["fd"], TEST_LINE % (
        i, r["status"].encode(), b"null" if r["exitCode"] is None else b"%d" % r["exitCode"],
        b"null" if r["signal"] is None else b"%d" % r["signal"], JSON_STR(r["stdout"]).encode(),
        JSON_STR(r["stderr"]).encode(), JSON_BOOL[r["stdoutTruncated"]], JSON_BOOL[r["stderrTruncated"]],
        r["wallMs"], r["cpuMs"], r["memoryKb"]))


def tmpfile(dirpath, data=b""):
    """An anonymous file: created, unlinked, returned as an fd only children we fork inherit."""
    fd = os.open(dirpath, os.O_TMPFILE | os.O_RDWR, 0o600)
    if data:
        os.write(fd, data)
        os.lseek(fd, 0, os.SEEK_SET)
    return fd


def read_capped(fd, cap):
    size = os.lseek(fd, 0, os.SEEK_END)
    os.lseek(fd, 0, os.SEEK_SET)
    data = os.read(fd, min(size, cap)) if size > 0 else b""
    return data, size > cap


def kill_others(pid):
    """Kill every process the test may have left behind (daemons, double forks)."""
    if UNSAFE:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
        return
    # kill(-1) reaches every process in this PID namespace except ourselves and its init.
    try:
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    # Where we are the namespace's init (zygote children), the killed orphans are ours to
    # reap: until then they are zombies that still count against RLIMIT_NPROC, and the next
    # test could not start a thread (Go, Java) or a process.
    if os.getpid() == 1:
        while True:
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
            except InterruptedError:
                continue


def wipe(dirs):
    for d in dirs:
        try:
            for name in os.listdir(d):
                p = os.path.join(d, name)
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p, ignore_errors=True)
                else:
                    try:
                        os.unlink(p)
                    except OSError:
                        pass
        except OSError:
            pass


# A forked child writes to as few of the harness's objects as it can: after a fork every
# page it writes to (a refcount is a write) is copied, at ~4 us a page on this VM. So the
# child's setup is worked out before forking and made with plain ints and C functions.

RESET_SIGNALS = tuple(int(s) for s in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGINT, signal.SIGTERM))


def rlimit_plan(lim):
    """The (resource, (soft, hard)) pairs a run's child sets."""
    cpu_s = max(1, int((lim["timeMs"] + 999) // 1000))
    plan = [(resource.RLIMIT_CPU, (cpu_s, cpu_s + 1))]
    for kind, value in ((resource.RLIMIT_AS, lim["memoryMb"] * 1024 * 1024 if lim.get("memoryMb") else None),
                        (resource.RLIMIT_FSIZE, lim["fileBytes"]), (resource.RLIMIT_NOFILE, lim["openFiles"]),
                        (resource.RLIMIT_NPROC, lim["processes"]), (resource.RLIMIT_CORE, 0),
                        (resource.RLIMIT_MEMLOCK, 0)):
        if value is not None:
            plan.append((kind, (value, value)))
    return tuple(plan)


def child_setup(plan, infd, outfd, errfd, cwd):
    os.setsid()
    for s in RESET_SIGNALS:
        # SIG_DFL through the C function: signal.signal's enum conversions alone cost a
        # forked child ~90 page faults.
        _signal.signal(s, 0)
    os.dup2(infd, 0)
    os.dup2(outfd, 1)
    os.dup2(errfd, 2)
    os.closerange(3, 65536)
    os.chdir(cwd)
    for kind, value in plan:
        try:
            resource.setrlimit(kind, value)
        except (ValueError, OSError):
            pass


def make_stdio():
    return (
        io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)), encoding="utf-8"),
        io.TextIOWrapper(io.BufferedWriter(io.FileIO(1, "w", closefd=False)), encoding="utf-8"),
        io.TextIOWrapper(io.BufferedWriter(io.FileIO(2, "w", closefd=False)), encoding="utf-8",
                         errors="backslashreplace"),
    )


def install_python_main(filename, argv, scratch):
    """Makes this interpreter what `python3 filename *argv` looks like to the program: a
    fresh __main__, sys.argv, and pristine stdio (see prebuilt_stdio). Done once per
    submission in the harness, which has read its job and no longer uses any of them, so
    each forked test starts in this state without writing to it. Returns __main__'s dict."""
    mod = types.ModuleType("__main__")
    mod.__file__ = filename
    mod.__builtins__ = builtins
    sys.modules["__main__"] = mod
    sys.argv = [filename] + list(argv)
    sys.stdin, sys.stdout, sys.stderr = prebuilt_stdio(scratch)
    sys.__stdin__, sys.__stdout__, sys.__stderr__ = sys.stdin, sys.stdout, sys.stderr
    return mod.__dict__


def prebuilt_stdio(scratch):
    """The text streams of a forked Python test, built once per submission.

    Built over fds 0-2 while those are fresh, empty scratch files at offset 0, which is
    exactly the state a test's own stdio files are in when it starts (what the streams
    cache at construction: seekable, offset, block size). The harness never uses them,
    so every forked test gets a pristine copy instead of building six objects and looking
    up codecs itself (a quarter of a forked test's page faults)."""
    saved = [os.dup(k) for k in range(3)]
    files = [tmpfile(scratch) for _ in range(3)]
    try:
        for k in range(3):
            os.dup2(files[k], k)
        return make_stdio()
    finally:
        for k in range(3):
            os.dup2(saved[k], k)
            os.close(saved[k])
            os.close(files[k])


def run_python_inproc(code_obj, main_dict):
    """Runs the program in this forked interpreter (prepared by install_python_main)."""
    if "random" in sys.modules:
        # Forked from one zygote, every test would otherwise replay the same random stream.
        sys.modules["random"].seed()
    code = 0
    try:
        exec(code_obj, main_dict)
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code & 0xFF
        else:
            try:
                sys.stderr.write(str(e.code) + "\n")
            except Exception:
                pass
            code = 1
    except BaseException:
        # What `python3 main.py` does with an uncaught exception: sys.excepthook, by
        # default the interpreter's C printer. The pure-Python `traceback` module costs
        # a forked test several ms (a RecursionError's thousand frames: ~10 ms).
        # The traceback starts at the program's own frame, not this function's.
        etype, value, tb = sys.exc_info()
        tb = tb.tb_next if tb is not None else None
        exc = (etype, value.with_traceback(tb), tb)
        try:
            sys.excepthook(*exc)
        except BaseException:
            try:
                sys.__excepthook__(*exc)
            except BaseException:
                pass
        code = 1
    # What the interpreter does at exit before flushing: wait for non-daemon threads (the
    # competitive-programming idiom runs main() in a thread with a big stack), then run
    # atexit handlers. os._exit alone would kill both.
    threading = sys.modules.get("threading")
    if threading is not None:
        try:
            threading._shutdown()
        except BaseException:
            pass
    try:
        import atexit

        atexit._run_exitfuncs()
    except BaseException:
        pass
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            code = code or 1
    os._exit(code)


def classify(waitstatus, timed_out, lim, stderr, rss_kb):
    if timed_out:
        return "time_limit", None, None
    if os.WIFSIGNALED(waitstatus):
        sig = os.WTERMSIG(waitstatus)
        if sig in (signal.SIGXCPU,):
            return "time_limit", None, sig
        if sig == signal.SIGKILL and lim.get("cpuExceeded"):
            return "time_limit", None, sig
        if sig == signal.SIGXFSZ:
            return "output_limit", None, sig
        if memory_error(stderr, rss_kb, lim):
            return "memory_limit", None, sig
        return "runtime_error", None, sig
    code = os.WEXITSTATUS(waitstatus)
    if code == 0:
        return "ok", 0, None
    if memory_error(stderr, rss_kb, lim):
        return "memory_limit", code, None
    return "runtime_error", code, None


MEMORY_MARKERS = (b"MemoryError", b"std::bad_alloc", b"heap out of memory", b"Cannot allocate memory",
                  b"Array buffer allocation failed", b"Invalid array length", b"java.lang.OutOfMemoryError",
                  b"runtime: out of memory", b"memory allocation of", b"cannot allocate memory")


def memory_error(stderr, rss_kb, lim):
    if any(m in stderr for m in MEMORY_MARKERS):
        return True
    mem = lim.get("memoryMb")
    return bool(mem) and rss_kb >= mem * 1024 * 0.95


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def run_one(spec, lim, stdin_bytes, cwd, scratch, wipe_dirs):
    """Fork, run one program to completion or its limits, and return its result dict."""
    run = start_one(spec, lim, rlimit_plan(lim), stdin_bytes, cwd, scratch)
    wait_one(run, wipe_dirs)
    return report_one(run)


def start_one(spec, lim, plan, stdin_bytes, cwd, scratch):
    """Forks the program with its stdin and fresh output files; returns its run record."""
    infd = tmpfile(scratch, stdin_bytes)
    outfd = tmpfile(scratch)
    errfd = tmpfile(scratch)
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            child_setup(plan, infd, outfd, errfd, cwd)
            if spec["kind"] == "python":
                run_python_inproc(spec["code"], spec["main"])
            else:
                os.execve(spec["argv"][0], spec["argv"], spec["env"])
        except BaseException:
            try:
                import traceback

                os.write(2, traceback.format_exc().encode())
            except BaseException:
                pass
        os._exit(127)
    return {"pid": pid, "lim": lim, "fds": (infd, outfd, errfd), "start": start}


def wait_one(run, wipe_dirs):
    """Waits for the program (enforcing its limits), then kills what it left behind and
    wipes the writable dirs, so the next test may start."""
    pid, lim, start = run["pid"], run["lim"], run["start"]
    timed_out = False
    deadline = start + (lim.get("wallMs") or 2 * lim["timeMs"]) / 1000.0
    pidfd = os.pidfd_open(pid)
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    cpu_limit_ticks = lim["timeMs"] * CLK_TCK / 1000.0
    # Most tests end within the first poll, so wait before the first /proc read.
    first = True
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or (not first and cpu_ticks(pid) >= cpu_limit_ticks):
            timed_out = True
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            break
        # Wake every 50 ms to enforce the CPU limit precisely (RLIMIT_CPU counts whole seconds).
        if poller.poll(max(1, min(50, int(remaining * 1000)))):
            break
        first = False
    _, status, ru = os.wait4(pid, 0)
    os.close(pidfd)
    run["wall_ms"] = (time.monotonic() - start) * 1000.0
    run["timed_out"], run["status"], run["ru"] = timed_out, status, ru
    kill_others(pid)
    wipe(wipe_dirs)


def report_one(run):
    """The result of a finished run (reads and closes its output files)."""
    lim, status, ru, timed_out, wall_ms = run["lim"], run["status"], run["ru"], run["timed_out"], run["wall_ms"]
    infd, outfd, errfd = run["fds"]
    stdout, out_trunc = read_capped(outfd, lim["stdoutBytes"])
    stderr, err_trunc = read_capped(errfd, lim["stderrBytes"])
    for fd in (infd, outfd, errfd):
        os.close(fd)
    cpu_ms = (ru.ru_utime + ru.ru_stime) * 1000.0
    lim2 = dict(lim)
    lim2["cpuExceeded"] = cpu_ms >= lim["timeMs"]
    status_name, code, sig = classify(status, timed_out, lim2, stderr, ru.ru_maxrss)
    if lim2["cpuExceeded"] and status_name in ("ok", "runtime_error"):
        status_name = "time_limit"
    # Runtimes that reserve address space (V8, the JVM, Go) get RLIMIT_AS slack beyond the
    # memory limit; what they actually used is judged against the limit itself.
    rss_mb = lim.get("rssMb")
    if rss_mb and ru.ru_maxrss > rss_mb * 1024 and status_name in ("ok", "runtime_error"):
        status_name = "memory_limit"
    # Some runtimes (Node) ignore SIGXFSZ and spin on EFBIG; a full output file is the tell.
    out_full = out_trunc or len(stdout) >= min(lim["stdoutBytes"], lim["fileBytes"])
    if out_full and status_name in ("ok", "time_limit", "runtime_error"):
        status_name = "output_limit"
    return {
        "status": status_name,
        "exitCode": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": (os.WTERMSIG(status) if os.WIFSIGNALED(status) else None),
        "stdout": stdout.decode("utf-8", "replace"),
        "stderr": stderr.decode("utf-8", "replace"),
        "stdoutTruncated": out_trunc,
        "stderrTruncated": err_trunc,
        "wallMs": round(wall_ms, 3),
        "cpuMs": round(cpu_ms, 3),
        "memoryKb": ru.ru_maxrss,
    }


def collect_build(build, source_name, cap):
    """What a compile left in the build dir (its source aside), base64, for the host's
    compile cache; None when it is larger than `cap` bytes (then it is not cached)."""
    import base64

    out, total = {}, 0
    for root, _dirs, names in os.walk(build):
        for name in names:
            p = os.path.join(root, name)
            rel = os.path.relpath(p, build)
            if rel == source_name or os.path.islink(p) or not os.path.isfile(p):
                continue
            total += os.path.getsize(p)
            if total > cap:
                return None
            with open(p, "rb") as f:
                out[rel] = base64.b64encode(f.read()).decode()
    return out


def unpack_files(root, files, mode=None):
    """Writes {relative path: base64 content} below `root` (a job's files, a cached compile's output)."""
    if not files:
        return
    import base64

    for rel, b64 in files.items():
        dest = os.path.join(root, rel)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, "wb") as f:
            f.write(base64.b64decode(b64))
        if mode is not None:
            os.chmod(dest, mode)


def serve(paths, job_file):
    """Serve one submission: announce readiness, read its job, run it, report."""
    work, scratch, build = paths["work"], paths["scratch"], paths["build"]
    # Should the host run out of memory, the kernel's OOM killer takes a sandboxed
    # program first, never the server or another user's process (children inherit this).
    try:
        write_file("/proc/self/oom_score_adj", "1000")
    except OSError:
        pass
    send({"t": "ready", "pid": os.getpid()})
    line = job_file.readline()
    if not line:
        return
    job = json.loads(line)
    unpack_files(work, job.get("files"))
    src_path = os.path.join(build, job["sourceName"])
    with open(src_path, "w", encoding="utf-8") as f:
        f.write(job["source"])
    wipe_dirs = [] if UNSAFE else job.get("wipe", [])

    if job.get("prebuilt"):
        # A compile of this very source, cached by the host: its output goes where the
        # compiler would have put it, and the compile is skipped.
        unpack_files(build, job["prebuilt"], 0o755)
    elif job.get("compile"):
        c = job["compile"]
        res = run_one({"kind": "exec", "argv": c["argv"], "env": job["env"]}, c["limits"], b"", build, scratch,
                      [] if UNSAFE else [paths["tmp"]])
        if res["status"] != "ok":
            res["status"] = "compile_error" if res["status"] == "runtime_error" else res["status"]
        msg = {"t": "compile", "result": res}
        if res["status"] == "ok" and c.get("collect"):
            artifacts = collect_build(build, job["sourceName"], c["collect"])
            if artifacts is not None:
                msg["artifacts"] = artifacts
        send(msg)
        if res["status"] != "ok":
            send({"t": "done", "files": {}})
            return
    run = job["run"]
    if run["kind"] == "python":
        try:
            code_obj = compile(job["source"], src_path, "exec")
        except (SyntaxError, ValueError) as e:
            import traceback

            msg = "".join(traceback.format_exception_only(type(e), e))
            send({"t": "compile", "result": {
                "status": "compile_error", "exitCode": 1, "signal": None, "stdout": "", "stderr": msg,
                "stdoutTruncated": False, "stderrTruncated": False, "wallMs": 0, "cpuMs": 0, "memoryKb": 0}})
            send({"t": "done", "files": {}})
            return
        spec = {"kind": "python", "code": code_obj, "main": install_python_main(src_path, run.get("args", []), scratch)}
    else:
        spec = {"kind": "exec", "argv": run["argv"], "env": job["env"]}
    plan = rlimit_plan(job["limits"])
    # Test i+1 starts as soon as test i has ended and been cleaned up after; test i's
    # output is read and reported while test i+1 runs.
    prev = None
    tests = job["tests"]
    for i, stdin in enumerate(tests):
        run = start_one(spec, job["limits"], plan, stdin.encode("utf-8"), work, scratch)
        if prev is not None:
            send_test(i - 1, report_one(prev))
        wait_one(run, wipe_dirs if i < len(tests) - 1 else [])
        prev = run
    if prev is not None:
        send_test(len(tests) - 1, report_one(prev))
    files = {}
    if job.get("fetch"):
        import base64
    for rel in job.get("fetch", []):
        p = os.path.join(work, rel)
        try:
            with open(p, "rb") as f:
                files[rel] = base64.b64encode(f.read(job["limits"]["fileBytes"])).decode()
        except OSError:
            pass
    send({"t": "done", "files": files})


# --- zygote mode -------------------------------------------------------------------
# One long-lived harness inside one bubblewrap sandbox forks a child per submission,
# straight into fresh user, PID, mount, network, IPC and UTS namespaces (clone). The
# child mounts fresh size-capped tmpfs over every writable dir and a fresh /proc, drops
# every capability and sets no_new_privs, then serves exactly one submission as PID 1 of
# its namespace: when it exits, the kernel kills everything the submission started.
# Submissions share only the zygote's read-only memory image; they cannot see, signal or
# trace each other.

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET = 0x10000000, 0x20000000, 0x40000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_NO_NEW_PRIVS = 1, 38


def libc_call(name, *args):
    import ctypes

    if getattr(libc(), name)(*args) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "%s: %s" % (name, os.strerror(err)))


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


def capability_types():
    """The capset(2) structures; made once in the zygote (ctypes classes are costly to build)."""
    if "cap" not in LIBC:
        import ctypes

        class Header(ctypes.Structure):
            _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]

        class Data(ctypes.Structure):
            _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                        ("inheritable", ctypes.c_uint32)]

        LIBC["cap"] = (Header, Data * 2)
    return LIBC["cap"]


def drop_capabilities():
    import ctypes

    Header, DataPair = capability_types()
    header = Header(0x20080522, 0)  # _LINUX_CAPABILITY_VERSION_3
    data = DataPair()
    libc_call("capset", ctypes.byref(header), data)
    libc_call("prctl", PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)


NAMESPACES = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
# clone(2)'s number where its first argument is the flags and the rest may be 0.
SYS_CLONE = {"x86_64": 56, "aarch64": 220}.get(os.uname().machine)


def pyapi():
    """The interpreter's own symbols (and libc's), called with the GIL held, as os.fork does."""
    if "py" not in LIBC:
        import ctypes

        api = ctypes.PyDLL(None, use_errno=True)
        api.syscall.restype = ctypes.c_long
        api.syscall.argtypes = [ctypes.c_long, ctypes.c_ulong, ctypes.c_long, ctypes.c_long, ctypes.c_long,
                                ctypes.c_long]
        for name in ("PyOS_BeforeFork", "PyOS_AfterFork_Parent", "PyOS_AfterFork_Child"):
            getattr(api, name).restype = None
        LIBC["py"] = api
    return LIBC["py"]


def clone_into_namespaces():
    """fork() straight into fresh namespaces: the child is PID 1 of its PID namespace at
    once, where unshare(CLONE_NEWPID) would only move the caller's children there and
    cost a second fork of the interpreter per submission. Python has no os.clone, so this
    is the raw system call between the hooks os.fork() runs around fork()."""
    api = pyapi()
    api.PyOS_BeforeFork()
    pid = api.syscall(SYS_CLONE, NAMESPACES | signal.SIGCHLD, 0, 0, 0, 0)
    if pid == 0:
        api.PyOS_AfterFork_Child()
        return 0
    err = 0
    if pid < 0:
        import ctypes

        err = ctypes.get_errno()  # before the next call through this handle overwrites it
    api.PyOS_AfterFork_Parent()
    if pid < 0:
        raise OSError(err, "clone: %s" % os.strerror(err))
    return pid


def enter_namespaces(paths, tmpfs_bytes, uid, gid):
    """In fresh namespaces: map our host uid/gid, make the mounts private and put fresh
    size-capped tmpfs over every writable dir."""
    write_file("/proc/self/setgroups", "deny")
    write_file("/proc/self/uid_map", "%d %d 1" % (uid, uid))
    write_file("/proc/self/gid_map", "%d %d 1" % (gid, gid))
    libc_call("mount", None, b"/", None, MS_REC | MS_PRIVATE, None)
    for d in (paths["work"], paths["tmp"], paths["build"], paths["scratch"], "/dev/shm"):
        mode = "1777" if d in (paths["tmp"], "/dev/shm") else "0755"
        opts = ("size=%d,mode=%s" % (tmpfs_bytes, mode)).encode()
        libc_call("mount", b"tmpfs", d.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, opts)


def serve_as_pid1(paths):
    """PID 1 of the submission's namespaces: its own /proc, no capabilities, then serve."""
    libc_call("prctl", PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    libc_call("mount", b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
    # No user namespaces below this one (what bwrap's --disable-userns does): a program
    # could otherwise regain capabilities in a namespace of its own and, since process
    # counts are kept per user namespace, fork past RLIMIT_NPROC.
    write_file("/proc/sys/user/max_user_namespaces", "0")
    drop_capabilities()
    set_dumpable(False)
    os.chdir(paths["work"])
    CHANNEL["fd"] = 1
    serve(paths, os.fdopen(0, "r", encoding="utf-8", closefd=False))
    os._exit(0)


def spawn_submission(paths, tmpfs_bytes, job_r, msg_w):
    """Starts a submission's PID 1 in fresh namespaces (fd 0: its job pipe, fd 1: its
    message pipe); returns its pid."""
    uid, gid = os.getuid(), os.getgid()
    pid = clone_into_namespaces() if SYS_CLONE is not None else os.fork()
    if pid != 0:
        return pid
    try:
        os.dup2(job_r, 0)
        os.dup2(msg_w, 1)
        os.closerange(3, 65536)
        # Writing our own /proc/self/*_map needs a dumpable process; nothing untrusted can
        # see this one yet. serve_as_pid1 resets it.
        set_dumpable(True)
        if SYS_CLONE is not None:
            enter_namespaces(paths, tmpfs_bytes, uid, gid)
            serve_as_pid1(paths)
        # Elsewhere: unshare, which leaves this process outside the new PID namespace, and
        # fork the PID 1 there.
        libc_call("unshare", NAMESPACES)
        enter_namespaces(paths, tmpfs_bytes, uid, gid)
        child = os.fork()
        if child == 0:
            serve_as_pid1(paths)
        for fd in (0, 1):
            os.close(fd)
        _, status = os.waitpid(child, 0)
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)
    except BaseException:
        import traceback

        os.write(2, ("datascale harness failure:\n" + traceback.format_exc()).encode())
    os._exit(70)


def flush_job(sub):
    """Writes what the (non-blocking) job pipe takes; closes it once the job is through.
    The pending bytes are consumed by offset (a pipe takes 64 KiB at a time, and a job can
    carry a cached binary of megabytes: slicing the rest off each time would be quadratic)."""
    pending, off = sub["pending"], sub["off"]
    try:
        n = os.write(sub["job_w"], memoryview(pending)[off:])
    except BlockingIOError:
        return
    except OSError:
        n = len(pending) - off  # the child is gone; its exit is reported as usual
    sub["off"] = off + n
    if sub["off"] >= len(pending):
        sub["pending"], sub["off"] = b"", 0
        os.close(sub["job_w"])
        sub["job_w"] = -1


def write_all(fd, data):
    while data:
        n = os.write(fd, data)
        data = data[n:]


def zygote(paths, tmpfs_bytes):
    """Reads spawn/job/kill requests on fd 0 (a job request is followed by the job's own
    line); forwards each submission's messages on fd 1."""
    host_out = os.dup(1)
    subs = {}  # id -> {"pid", "job_w", "msg_r", "buf", "pending"}
    fd_to_id = {}  # message pipe -> id, while the submission runs
    pidfd_to_id = {}  # pidfd -> id, once its message pipe closed and it awaits reaping
    inchunks = []  # bytes read from the host since the last line end
    job_for = None  # id whose job is the next line
    write_all(host_out, b'{"t":"ready","pid":%d}\n' % os.getpid())
    while True:
        readers = [0] + list(fd_to_id) + list(pidfd_to_id)
        writers = [s["job_w"] for s in subs.values() if len(s["pending"]) > s["off"]]
        r, w, _ = select.select(readers, writers, [])
        for fd in w:
            sub = next((s for s in subs.values() if s["job_w"] == fd), None)
            if sub is not None:
                flush_job(sub)
        for fd in r:
            if fd == 0:
                data = os.read(0, 1 << 20)
                if not data:
                    for s in subs.values():
                        os.kill(s["pid"], signal.SIGKILL)
                    return
                # Only the new bytes are searched for a line end, so a large job (a
                # cached compile's binary rides in it) is not rescanned on every read.
                if b"\n" not in data:
                    inchunks.append(data)
                    continue
                inbuf = b"".join(inchunks) + data
                inchunks.clear()
                while b"\n" in inbuf:
                    line, inbuf = inbuf.split(b"\n", 1)
                    if job_for is not None:
                        # A job line goes to its submission verbatim: the zygote never
                        # parses (or re-encodes) a job, whatever its size. It is written
                        # at once, as far as the pipe takes it, not after whatever else
                        # this read brought (a spawn's fork would delay it).
                        sub = subs.get(job_for)
                        if sub is not None and sub["job_w"] >= 0:
                            sub["pending"] = sub["pending"][sub["off"]:] + line + b"\n"
                            sub["off"] = 0
                            flush_job(sub)
                        job_for = None
                        continue
                    req = json.loads(line)
                    if req["t"] == "job":
                        job_for = req["id"]
                        continue
                    handle_request(req, subs, fd_to_id, paths, tmpfs_bytes, host_out)
                if inbuf:
                    inchunks.append(inbuf)
                continue
            if fd in pidfd_to_id:
                sid = pidfd_to_id.pop(fd)
                sub = subs.pop(sid)
                _, status = os.waitpid(sub["pid"], 0)
                os.close(fd)
                write_all(host_out, b'{"id":%d,"exit":%d}\n' % (sid, os.waitstatus_to_exitcode(status)))
                continue
            sid = fd_to_id[fd]
            sub = subs[sid]
            data = os.read(fd, 1 << 20)
            if data:
                if b"\n" not in data:
                    sub["buf"].append(data)
                    continue
                *lines, rest = (b"".join(sub["buf"]) + data).split(b"\n")
                sub["buf"] = [rest] if rest else []
                write_all(host_out, b"".join(b'{"id":%d,"m":%s}\n' % (sid, l) for l in lines if l))
                continue
            # The message pipe closed: the submission is ending. Its child may still be
            # tearing down its namespaces; reap it when its pidfd says so instead of
            # blocking here, so the other submissions' messages keep flowing meanwhile.
            os.close(fd)
            del fd_to_id[fd]
            if sub["job_w"] >= 0:
                os.close(sub["job_w"])
                sub["job_w"] = -1
            sub["pending"], sub["off"] = b"", 0
            pidfd_to_id[sub["pidfd"]] = sid


def handle_request(req, subs, fd_to_id, paths, tmpfs_bytes, host_out):
    sid = req["id"]
    if req["t"] == "spawn":
        job_r, job_w = os.pipe()
        msg_r, msg_w = os.pipe()
        try:
            pid = spawn_submission(paths, tmpfs_bytes, job_r, msg_w)
        except OSError as e:
            # The clone happens here, in the zygote: a refused one (say, too many
            # namespaces) fails this submission, as a failed unshare in a child would.
            for fd in (job_r, job_w, msg_r, msg_w):
                os.close(fd)
            os.write(2, ("datascale harness failure: cannot start a submission: %s\n" % e).encode())
            write_all(host_out, b'{"id":%d,"exit":70}\n' % sid)
            return
        os.close(job_r)
        os.close(msg_w)
        os.set_blocking(job_w, False)
        subs[sid] = {"pid": pid, "pidfd": os.pidfd_open(pid), "job_w": job_w, "msg_r": msg_r, "buf": [],
                     "pending": b"", "off": 0}
        fd_to_id[msg_r] = sid
    elif req["t"] == "kill" and sid in subs:
        try:
            os.kill(subs[sid]["pid"], signal.SIGKILL)
        except OSError:
            pass


ZYGOTE_PRELOAD = ("traceback", "linecache", "typing")


def main():
    paths = json.loads(sys.argv[1])
    set_dumpable(False)
    # Everything loaded so far is immortal for the collector, so a collection in a forked
    # test does not touch (and copy) the zygote's pages.
    gc.freeze()
    if len(sys.argv) > 2 and sys.argv[2] == "--zygote":
        # The zygote starts once, so it can afford to load what solutions commonly import
        # (and what a failing test needs for its traceback); a forked test then finds
        # them loaded instead of importing them again on every test.
        for name in ZYGOTE_PRELOAD:
            try:
                __import__(name)
            except Exception:
                pass
        # Resolve what every submission child calls, once, before any fork.
        for name in ("prctl", "unshare", "mount", "capset"):
            getattr(libc(), name)
        capability_types()
        pyapi()
        gc.freeze()
        zygote(paths, int(sys.argv[3]))
    else:
        serve(paths, sys.stdin)


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        import traceback

        os.write(2, ("datascale harness failure:\n" + traceback.format_exc()).encode())
        sys.exit(70)
