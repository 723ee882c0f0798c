/**
 * The protocol core. Exported (the API): {@code io.flowstack.core} ({@code FlowStack}),
 * {@code .config}, {@code .socket}, {@code .stats} and {@code io.flowstack.services}. Not exported
 * (internal): {@code .wire}, {@code .wire.msg}, {@code .flow}, {@code .route}, {@code .percore}, {@code .arp},
 * {@code .ip}, {@code .forward}, {@code .udp}, {@code .tcp}, {@code .netisr}. Some public members of the API
 * packages still name internal types (e.g. {@code FlowStack.netisr()}); a modular application
 * cannot use those, and ModuleExportsTest fails if an internal package gets exported.
 *
 * <p>The command line (stack-tools) and the kernel tests (tests/) use the internals (netisr, wire,
 * tcp, ...). They are not named modules and run on the class path, where this descriptor does not
 * apply, so they need no qualified exports; making them modules would need exports of most of the
 * internal packages to them, and changes to the launcher and the tests' JVM command lines.
 *
 * <p>A modular application runs with {@code --enable-native-access=io.flowstack.nativeio} and
 * {@code --add-exports java.base/jdk.internal.misc=org.agrona} (instead of {@code ALL-UNNAMED}).
 */
module io.flowstack.core {
    requires transitive io.flowstack.nic;      // FlowStack takes a Nic
    requires transitive org.agrona;            // StackConfig.clock is an Agrona NanoClock
    requires io.flowstack.nativeio;            // netisr: affinity, eventfd, epoll
    requires jdk.management;                   // RingPool reads the heap size HotSpot-wise

    exports io.flowstack.core;
    exports io.flowstack.core.config;
    exports io.flowstack.core.socket;
    exports io.flowstack.core.stats;
    exports io.flowstack.services;
}
