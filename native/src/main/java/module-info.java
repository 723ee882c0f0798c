/**
 * The FFM bindings to libc and the Linux kernel (TUN/TAP, AF_PACKET, BPF, ethtool, eventfd, epoll,
 * affinity). They are the project's plumbing, not an API: the package is exported only to the
 * project's own modules (qualified export), so a modular application cannot call them.
 *
 * <p>The command line (stack-tools) and the kernel tests (tests/) are not named modules: they run
 * on the class path, where the module boundaries do not apply, and use these classes as before.
 * A qualified export to them would need them to become named modules, with their own
 * dependencies (picocli, HdrHistogram) sorted out and the launcher and the tests' JVM command
 * lines changed; not done.
 *
 * <p>Runs need {@code --enable-native-access=io.flowstack.nativeio} on the module path
 * ({@code ALL-UNNAMED} on the class path).
 */
module io.flowstack.nativeio {
    exports io.flowstack.nativeio to io.flowstack.nic, io.flowstack.core;
}
