package io.flowstack.tools;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.flowstack.core.FlowStack;
import io.flowstack.core.config.StackConfig;
import io.flowstack.nic.MemoryWire;
import io.flowstack.services.MetricsLimits;
import io.flowstack.services.SourcePrefix;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code --serve KIND:PORT[,OPTION...]}: the metrics service's options and their one-line errors. */
class ServiceSpecTest {

    @Test
    void metricsOptionsParseAndPrintBack() {
        ServiceSpec plain = ServiceSpec.parse("metrics:9100");
        assertEquals(new ServiceSpec(ServiceSpec.Kind.METRICS, 9100), plain);
        assertEquals(MetricsLimits.DEFAULTS, plain.limits());
        assertEquals("metrics:9100", plain.toString());

        ServiceSpec s = ServiceSpec.parse("Metrics:9100,allow=198.18.0.0/24, allow=198.19.0.7 ,max-connections=8,"
                + "timeout=1500ms,cache=2s");
        MetricsLimits l = s.limits();
        assertEquals(List.of(SourcePrefix.parse("198.18.0.0/24"), SourcePrefix.parse("198.19.0.7/32")), l.allow());
        assertEquals(8, l.maxConnections());
        assertEquals(Duration.ofMillis(1500), l.requestTimeout());
        assertEquals(Duration.ofSeconds(2), l.cacheInterval());
        String text = "metrics:9100,allow=198.18.0.0/24,allow=198.19.0.7/32,max-connections=8,timeout=1500ms,cache=2s";
        assertEquals(text, s.toString());
        assertEquals(s, ServiceSpec.parse(text), "toString reads back");
        assertEquals(MetricsLimits.DEFAULTS.withAllow(List.of(SourcePrefix.parse("10.0.0.0/8"))),
                ServiceSpec.parse("metrics:9100,allow=10.0.0.0/8").limits());
    }

    @Test
    void badMetricsOptionsAreOneLineErrors() {
        String[][] cases = {
            {"metrics:9100,allow=198.18.0.1/24", "has host bits set: write 198.18.0.0/24"},
            {"metrics:9100,allow=198.18.0.0/40", "the prefix length must be 0..32"},
            {"metrics:9100,allow=198.18.300.0/24", "each part must be 0..255"},
            {"metrics:9100,allow=fs0", "is not an IPv4 prefix"},
            {"metrics:9100,allow=", "needs a value"},
            {"metrics:9100,allow", "needs a value"},
            {"metrics:9100,", "needs a value"},
            {"metrics:9100,max-connections=0", "max-connections must be 1..65535"},
            {"metrics:9100,max-connections=lots", "is not a number"},
            {"metrics:9100,timeout=5", "is not a duration: write e.g. 5s or 500ms"},
            {"metrics:9100,timeout=5m", "is not a duration"},
            {"metrics:9100,timeout=61s", "timeout must be 10ms..60s"},
            {"metrics:9100,cache=0s", "cache must be 10ms..60s"},
            {"metrics:9100,cache=1s,cache=2s", "cache is given twice"},
            {"metrics:9100,deny=10.0.0.0/8", "unknown option 'deny'"},
            {"http:80,allow=10.0.0.0/8", "http takes no options"},
            {"metrics:0,allow=10.0.0.0/8", "the port must be 1..65535"},
        };
        for (String[] c : cases) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ServiceSpec.parse(c[0]),
                    c[0]);
            assertTrue(e.getMessage().contains(c[1]), c[0] + ": " + e.getMessage());
            assertTrue(e.getMessage().startsWith("'" + c[0] + "'"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), e.getMessage());
        }
    }

    /**
     * The classes the warm-up links before it compiles anything ({@link ServiceSpec#loadServiceClasses})
     * hold the class of every service a {@code --serve} kind starts, and their nested classes
     * (the metrics service's connection class among them): a kind added later without its class
     * there fails here.
     */
    @Test
    void everyServiceAKindStartsIsAmongTheClassesTheWarmupLinksFirst() throws Exception {
        List<Class<?>> linked = ServiceSpec.loadServiceClasses();
        assertTrue(linked.stream().anyMatch(c -> c.getName().equals("io.flowstack.services.MetricsService$Scrape")),
                linked::toString);
        StackConfig config = StackConfig.builder().cores(1).address(0xC6_12_FE_02).prefixLength(24)
                .mac(0x02_00_00_00_fe_02L).pinThreads(false).build();
        try (MemoryWire wire = MemoryWire.createWithOffloads(1, 1 << 20, 1500);
             FlowStack stack = FlowStack.start(config, wire.b())) {
            for (ServiceSpec.Kind k : ServiceSpec.Kind.values()) {
                try (AutoCloseable service = new ServiceSpec(k, 1000 + k.ordinal()).start(stack)) {
                    assertTrue(linked.contains(service.getClass()), () -> k + ": " + service.getClass());
                }
            }
        }
    }
}
