package io.flowstack.tests;

import static io.flowstack.tests.KernelLab.STACK_IP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.stats.Stat;
import io.flowstack.services.HttpService;
import io.flowstack.nic.packet.FanoutMode;
import io.flowstack.tests.NamespaceLab.Result;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * How often a received frame lands on a core that does not own its flow and has to hop, per
 * AF_PACKET fanout mode, with 2 cores under TCP load from the kernel (docs/AF_PACKET.md has the
 * numbers): wrk with keep-alive (request/response on 32 connections), wrk with
 * {@code Connection: close} (a new connection per request) and curl bulk downloads. The hop rate
 * is {@code hop_out / rx_frames}. Every load must finish without errors; with
 * {@link FanoutMode#TOEPLITZ} no frame may hop. The other modes are measured, not judged.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class PacketFanoutHopRateTest {
    private static final Pattern WRK_RPS = Pattern.compile("Requests/sec:\\s+([\\d.]+)");
    private static final Pattern WRK_ERRORS = Pattern.compile("Socket errors: .*");

    private final List<String> table = new ArrayList<>();

    private record Load(String name, String script) {
    }

    private static final List<Load> LOADS = List.of(
            new Load("wrk keep-alive", "wrk -t 2 -c 32 -d 4s --timeout 5s http://" + STACK_IP + "/"),
            new Load("wrk close", "wrk -t 2 -c 32 -d 4s --timeout 5s -H 'Connection: close' http://" + STACK_IP + "/"),
            new Load("curl 2x20MB", "for i in 1 2; do curl -sS --max-time 30 -o /dev/null -w '%{http_code} %{speed_download}\\n' "
                    + "http://" + STACK_IP + "/bytes/20000000 || exit 1; done"));

    @Test
    @Timeout(300)
    void hopRatePerFanoutMode() {
        for (FanoutMode mode : new FanoutMode[] {FanoutMode.TOEPLITZ, FanoutMode.CPU, FanoutMode.HASH, FanoutMode.LB}) {
            PacketKernelLab lab = PacketKernelLab.start(2, mode);
            try (HttpService http = new HttpService(lab.stack(), 80)) {
                Result warm = lab.exec(Duration.ofSeconds(20), null, "ping", "-n", "-c", "3", "-i", "0.2", "-w", "10",
                        STACK_IP);
                KernelLab.assertAllAnswered(warm, 3, lab::report);
                // not measured: JIT warm-up, so that the first mode is not the slowest by compilation
                Result w = lab.shell(Duration.ofSeconds(30), "wrk -t 2 -c 32 -d 2s http://" + STACK_IP + "/");
                assertEquals(0, w.exit(), () -> "warm-up: " + w + "\n" + lab.report());
                for (Load load : LOADS) {
                    long rx = lab.total(Stat.RX_FRAMES);
                    long hops = lab.total(Stat.HOP_OUT);
                    Result r = lab.shell(Duration.ofSeconds(60), load.script());
                    assertEquals(0, r.exit(), () -> load.name() + ": " + r + "\n" + lab.report());
                    assertFalse(r.stdout().contains("Non-2xx"), () -> r + "\n" + lab.report());
                    Matcher errors = WRK_ERRORS.matcher(r.stdout());
                    assertFalse(errors.find(), () -> load.name() + ": " + r + "\n" + lab.report());
                    long dRx = lab.total(Stat.RX_FRAMES) - rx;
                    long dHops = lab.total(Stat.HOP_OUT) - hops;
                    assertTrue(dRx > 0, lab::report);
                    Matcher rps = WRK_RPS.matcher(r.stdout());
                    String rate = rps.find() ? rps.group(1) + " req/s" : r.stdout().strip().replace('\n', ' ');
                    table.add(String.format(Locale.ROOT, "%-9s %-15s rx_frames %8d  hop_out %8d  hop rate %5.1f %%  (%s)",
                            mode.cliName(), load.name(), dRx, dHops, 100.0 * dHops / dRx, rate));
                    if (mode == FanoutMode.TOEPLITZ) {
                        assertEquals(0, dHops, () -> "hops under Toeplitz steering\n" + lab.report());
                    }
                }
                lab.assertHealthy();
            } finally {
                PacketKernelLab.finish(lab);
            }
        }
    }

    @AfterAll
    void printTable() {
        System.out.println("AF_PACKET fanout, 2 cores: hops per mode");
        table.forEach(System.out::println);
    }
}
