package io.flowstack.tools.stats;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.core.wire.Ipv4;
import io.flowstack.nic.MemoryWire;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Issue 13 point 6: the control socket is 0600 (0660 and its group with a control group) from
 * the moment it exists; a user who is neither root, the stack's user nor in the control group is
 * refused {@code stats} and {@code move} (a {@code rebalance}); an idle client is cut off. The
 * other users are played by {@code setpriv} (util-linux) running python3 as {@code nobody}.
 */
@Timeout(60)
class ControlAccessTest {
    private Path dir;
    private MemoryWire wire;
    private FlowStack stack;

    @BeforeEach
    void setUp() throws IOException {
        dir = Files.createTempDirectory(Path.of("/tmp"), "fs-ctl-");
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x")); // nobody may reach the socket
        wire = MemoryWire.create(1, 1 << 20);
        stack = FlowStack.start(StackConfig.builder().cores(1).address(Ipv4.parse("198.18.0.2")).build(), wire.b());
    }

    @AfterEach
    void tearDown() throws IOException {
        stack.close();
        wire.close();
        try (Stream<Path> s = Files.walk(dir)) {
            s.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void whoIsLetIn() throws Exception {
        ControlAccess owner = ControlAccess.ownerOnly();
        String me = System.getProperty("user.name");
        assertTrue(owner.permits("root", "root"));
        assertTrue(owner.permits(me, "whatever"));
        assertFalse(owner.permits("nobody", "nogroup"));
        ControlAccess group = ControlAccess.withGroup("nogroup");
        assertTrue(group.permits("nobody", "nogroup"));
        assertFalse(group.permits("nobody", "users"));
        // the peer named by number (its name lookup failed, e.g. under EMFILE)
        String myUid = String.valueOf(java.nio.file.Files.getAttribute(java.nio.file.Path.of("/proc/self"), "unix:uid"));
        assertTrue(owner.permits("0", "0"));
        assertTrue(owner.permits(myUid, "12345"));
        assertFalse(owner.permits("65534", "65534"));
        assertTrue(group.permits("65534", "65534"), "nogroup is gid 65534 on Debian");
        assertFalse(group.permits("65534", "100"));
    }

    @Test
    void theSocketIsTheOwnersAloneAndAnotherUserIsRefused() throws Exception {
        Path sock = dir.resolve("a.sock");
        try (ControlServer cs = ControlServer.start(stack, sock, "acl")) {
            assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(sock)));
            assertTrue(ask(sock, "text").startsWith("ok"), "the owner is answered");
            for (String request : new String[] {"text", "move 0 0"}) {
                String out = askAs("nobody", sock, request);
                assertTrue(out.contains("PermissionError"), "nobody is refused " + request + ": " + out);
            }
            try (Stream<Path> left = Files.list(dir)) {
                assertFalse(left.anyMatch(p -> p.getFileName().toString().startsWith(".control-")),
                        "the private directory it was bound in is gone");
            }
        }
    }

    @Test
    void aControlGroupLetsItsMembersInAndTheCredentialsAreChecked() throws Exception {
        Path sock = dir.resolve("g.sock");
        try (ControlServer cs = ControlServer.start(stack, sock, "grp", ControlAccess.withGroup("nogroup"))) {
            PosixFileAttributes a = Files.readAttributes(sock, PosixFileAttributes.class);
            assertEquals("rw-rw----", PosixFilePermissions.toString(a.permissions()));
            assertEquals("nogroup", a.group().getName());
            String member = askAs("nobody", sock, "text");
            assertTrue(member.startsWith("ok"), "a member of the group is answered: " + member);
        }
        // the same socket mode, but a group the client is not in: its credentials are refused
        Path other = dir.resolve("o.sock");
        try (ControlServer cs = ControlServer.start(stack, other, "oth", ControlAccess.withGroup("root"))) {
            Files.setPosixFilePermissions(other, PosixFilePermissions.fromString("rw-rw-rw-")); // as a careless admin might
            String out = askAs("nobody", other, "text");
            // refused before its request is read: the client sees the refusal line, or a reset or a
            // broken pipe (the server's close finds the request unread, or comes before it)
            assertFalse(out.startsWith("ok"), out);
            assertTrue(out.startsWith("error: refused") || out.startsWith("ConnectionResetError")
                    || out.startsWith("BrokenPipeError"), out);
            assertEquals(1, cs.refused());
        }
    }

    @Test
    void anIdleClientIsCutOff() throws Exception {
        Path sock = dir.resolve("i.sock");
        try (ControlServer cs = ControlServer.start(stack, sock, "idle");
             SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
            long t0 = System.nanoTime();
            int n = c.read(ByteBuffer.allocate(16)); // sends nothing: the server hangs up
            long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            assertEquals(-1, n);
            assertTrue(ms >= ControlServer.CLIENT_TIMEOUT_MILLIS - 500 && ms < ControlServer.CLIENT_TIMEOUT_MILLIS + 5_000,
                    "cut off after " + ms + " ms");
            assertTrue(ask(sock, "text").startsWith("ok"), "others are still served");
        }
    }

    private static String ask(Path sock, String request) throws IOException {
        try (SocketChannel c = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
            c.write(ByteBuffer.wrap((request + "\n").getBytes(StandardCharsets.US_ASCII)));
            ByteBuffer b = ByteBuffer.allocate(1 << 16);
            while (c.read(b) > 0) {
                // until the server closes
            }
            return new String(b.array(), 0, b.position(), StandardCharsets.UTF_8);
        }
    }

    /** What {@code user} gets for {@code request}: the reply, or python's exception name and text. */
    private static String askAs(String user, Path sock, String request) throws Exception {
        String py = "import socket\n"
                + "s = socket.socket(socket.AF_UNIX)\n"
                + "try:\n"
                + "    s.connect('" + sock + "')\n"
                + "    s.sendall(b'" + request + "\\n')\n"
                + "    out = b''\n"
                + "    while True:\n"
                + "        d = s.recv(65536)\n"
                + "        if not d: break\n"
                + "        out += d\n"
                + "    print(out.decode(), end='')\n"
                + "except Exception as e:\n"
                + "    print(type(e).__name__, e)\n";
        Process p = new ProcessBuilder("setpriv", "--reuid=" + user, "--regid=nogroup", "--clear-groups",
                "/usr/bin/python3", "-c", py).redirectErrorStream(true).start();
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "setpriv python3 ended");
        return new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
}
