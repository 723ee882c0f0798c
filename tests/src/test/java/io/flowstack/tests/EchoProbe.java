package io.flowstack.tests;

/**
 * A normal client for tests that load or attack the stack: a Python script for the kernel's
 * namespace that connects to argv[1]:argv[2], sends argv[3] random bytes, reads them back and
 * closes, all within argv[4] seconds; with argv[5] = "wait" it first waits for a line on standard
 * input (so that the interpreter's start-up is not part of the exchange). Prints "ok SECONDS" or
 * "fail SECONDS ERROR" (exit 1).
 */
final class EchoProbe {
    static final String PY = String.join("\n",
            "import os, socket, sys, time",
            "host, port, size, limit = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])",
            "data = os.urandom(size)",
            "if len(sys.argv) > 5 and sys.argv[5] == 'wait':",
            "    sys.stdin.readline()",
            "t0 = time.monotonic()",
            "try:",
            "    s = socket.create_connection((host, port), timeout=limit)",
            "    s.settimeout(max(0.05, limit - (time.monotonic() - t0)))",
            "    s.sendall(data)",
            "    got = b''",
            "    while len(got) < size:",
            "        b = s.recv(65536)",
            "        if not b:",
            "            break",
            "        got += b",
            "    s.close()",
            "    t = time.monotonic() - t0",
            "    if got != data:",
            "        print('fail %.3f echoed %d bytes, differs' % (t, len(got)))",
            "        sys.exit(1)",
            "    print('ok %.3f' % t)",
            "except Exception as e:",
            "    print('fail %.3f %r' % (time.monotonic() - t0, e))",
            "    sys.exit(1)");

    private EchoProbe() {
    }
}
