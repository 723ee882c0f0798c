/**
 * The NIC back-ends. All four packages are exported: each holds classes that applications and
 * the command line construct ({@code Nic}, {@code NicQueue}, {@code TapNic}, {@code MemoryWire},
 * {@code SteeringTable} in {@code io.flowstack.nic}; {@code PacketNic}, {@code FanoutMode} in
 * {@code .packet}; {@code ImpairedNic}, {@code ImpairmentSpec} in {@code .impair}; {@code PcapNic},
 * {@code PcapSpec}, {@code PcapReader}, {@code ReplayNic} in {@code .pcap}). Their internals (the
 * mmap'ed rings, the BPF programs, the pcap writer's queue) are package-private where nothing
 * outside their package uses them; packages cannot be split without moving classes.
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
}
