/**
 * The NIC back-ends. All five packages are exported: each holds classes that applications and
 * the command line construct ({@code Nic}, {@code NicQueue}, {@code TapNic}, {@code MemoryWire},
 * {@code SteeringTable} in {@code io.flowstack.nic}; {@code PacketNic}, {@code FanoutMode} in
 * {@code .packet}; {@code ImpairedNic}, {@code ImpairmentSpec} in {@code .impair}; {@code PcapNic},
 * {@code PcapSpec}, {@code PcapReader}, {@code ReplayNic} in {@code .pcap}; {@code XdpNic},
 * {@code XdpProgram}, {@code XdpLayout} in {@code .xdp}). Internals that
 * nothing outside their package uses are package-private ({@code TxRing}, {@code PcapWriter},
 * {@code HoldingArea}); {@code RxRing}, {@code PacketQueue}, {@code ImpairedQueue},
 * {@code ClassicBpf} and {@code ToeplitzSteering} stay public because the kernel tests read or
 * drive them, {@code ExtendedBpf} because {@code SteeringTable} (another package) uses it,
 * {@code VnetGather} because the XDP queue's companion socket ({@code .xdp}) writes with it too.
 * Packages are not split (that would move classes).
 *
 * <p>{@code io.flowstack.nativeio.NativeException}, named in the {@code @throws} of
 * {@code TapNic}, {@code PacketNic} and {@code SteeringTable}, is not exported to applications:
 * they see it as the {@code RuntimeException} it extends.
 *
 * <p>The command line (stack-tools) and the kernel tests (tests/) run on the class path, where
 * module boundaries do not apply.
 */
module io.flowstack.nic {
    requires io.flowstack.nativeio;
    // Pcap4J 1.8.2 ships a module-info (module org.pcap4j.core) which requires "slf4j.api", the
    // name derived from slf4j-api-1.7.25.jar; slf4j-api 1.7.26 and later name themselves
    // "org.slf4j", so the root pom keeps slf4j at 1.7.25 for the module path to resolve.
    // A plain requires, not static: pcap4j-core is a compile-scope dependency in the pom.
    requires org.pcap4j.core;
    requires java.sql; // java.sql.Timestamp: Pcap4J's packet time stamps
    requires org.agrona; // the pcap writer's ring buffer

    exports io.flowstack.nic;
    exports io.flowstack.nic.impair;
    exports io.flowstack.nic.packet;
    exports io.flowstack.nic.pcap;
    exports io.flowstack.nic.xdp;
}
