package io.flowstack.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.nic.packet.FanoutMode;
import io.flowstack.tests.NamespaceLab.Background;
import io.flowstack.tests.NamespaceLab.Result;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The cleanup every kernel lab relies on ({@link NamespaceLab}): what a lab made is gone after
 * {@code close()} (background commands, helpers, files, namespace), a set-up that fails removes
 * what it made before the failure, and a lab removes the leftovers of dead runs (namespaces of its
 * prefix whose pid is gone, and for {@link PacketKernelLab} a veth pair left in the root
 * namespace) but not those of live runs.
 *
 * <p>The leftovers are made here with the labs' own prefixes and pid {@value #DEAD_PID}, above
 * the kernel's largest pid, so that no live process can own them; whatever a test made is deleted
 * in a {@code finally}.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS) // a backstop: every command has its own, shorter, limit
class NamespaceLabKernelTest {
    /** Above PID_MAX_LIMIT (2^22): never a live process. */
    private static final long DEAD_PID = 4_194_305L;

    @Test
    void closeKillsWhatStillRunsAndDeletesFilesAndTheNamespace() throws Exception {
        CliLab lab = CliLab.start(false);
        Background sleeper;
        Process helper;
        Path file;
        try {
            sleeper = lab.spawn(Duration.ofSeconds(60), null, "sleep", "50");
            helper = lab.background(new ProcessBuilder("sleep", "50"));
            file = lab.tempFile(new byte[] {1, 2, 3});
            assertTrue(sleeper.alive() && helper.isAlive() && Files.exists(file));
            assertTrue(namespaces().contains(lab.namespace()));
        } finally {
            lab.close();
        }
        assertFalse(sleeper.alive(), "background command killed");
        assertFalse(helper.isAlive(), "helper killed");
        assertFalse(Files.exists(file), "temporary file deleted");
        assertFalse(namespaces().contains(lab.namespace()), "namespace deleted");
        lab.close(); // idempotent
    }

    @Test
    void aSetUpThatFailsRemovesWhatItMade() {
        List<String> seen = new ArrayList<>();
        String prefix = KernelLab.NS_PREFIX + ProcessHandle.current().pid() + "-";
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> KernelLab.start(1, b -> {
            // the namespace and the TAP exist by now: the stack is the last step
            namespaces().stream().filter(n -> n.startsWith(prefix)).forEach(seen::add);
            throw new IllegalStateException("the stack configuration fails");
        }));
        assertEquals("the stack configuration fails", e.getMessage());
        assertEquals(1, seen.size(), () -> "this run's namespaces during the set-up: " + seen);
        String namespace = seen.get(0);
        assertFalse(namespaces().contains(namespace), "namespace of the failed set-up deleted");
        String tap = "ft" + namespace.substring(prefix.length());
        assertNotEquals(0, NamespaceLab.hostQuiet("ip", "link", "show", tap).exit(), "TAP " + tap + " gone");
    }

    @Test
    void leftoversOfDeadRunsAreRemovedAndThoseOfLiveRunsKept() {
        String hex = NamespaceLab.hex(4);
        String deadCli = KernelLab.NS_PREFIX + DEAD_PID + "-" + hex;
        String live = KernelLab.NS_PREFIX + ProcessHandle.current().pid() + "-" + hex;
        String deadPacket = PacketKernelLab.NS_PREFIX + DEAD_PID + "-" + hex;
        String deadVeth = "fpk" + hex;
        try {
            for (String ns : List.of(deadCli, live, deadPacket)) {
                hostOk("ip", "netns", "add", ns);
            }
            hostOk("ip", "link", "add", deadVeth, "type", "veth", "peer", "name", "fpn" + hex);

            CliLab cli = CliLab.start(false);
            cli.close();
            List<String> after = namespaces();
            assertFalse(after.contains(deadCli), "fst- namespace of a dead pid removed");
            assertTrue(after.contains(live), "fst- namespace of a live pid kept");
            assertTrue(after.contains(deadPacket), "another prefix is not this lab's to remove");

            PacketKernelLab packet = PacketKernelLab.start(1, FanoutMode.TOEPLITZ);
            packet.close();
            assertFalse(namespaces().contains(deadPacket), "fsp- namespace of a dead pid removed");
            assertNotEquals(0, NamespaceLab.hostQuiet("ip", "link", "show", deadVeth).exit(),
                    "veth pair left in the root namespace removed");
            assertTrue(namespaces().contains(live), "fst- namespace of a live pid still kept");
        } finally {
            for (String ns : List.of(deadCli, live, deadPacket)) {
                NamespaceLab.hostQuiet("ip", "netns", "del", ns);
            }
            NamespaceLab.hostQuiet("ip", "link", "del", deadVeth);
        }
    }

    private static List<String> namespaces() {
        Result r = hostOk("ip", "netns", "list");
        List<String> names = new ArrayList<>();
        for (String line : r.stdout().split("\n")) {
            if (!line.isBlank()) {
                names.add(line.strip().split("\\s+")[0]);
            }
        }
        return names;
    }

    private static Result hostOk(String... cmd) {
        Result r = NamespaceLab.hostQuiet(cmd);
        assertNotNull(r);
        assertEquals(0, r.exit(), () -> "command failed: " + r);
        return r;
    }
}
