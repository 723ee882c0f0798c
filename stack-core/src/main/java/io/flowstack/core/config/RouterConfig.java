package io.flowstack.core.config;

import java.util.List;

/**
 * What a stack with several interfaces adds to its {@link StackConfig}: the interfaces after the
 * first (NIC {@code i + 1} is {@code interfaces.get(i)}), the static routes it starts with, and
 * whether it forwards datagrams between interfaces (RFC 1812) or, as a multihomed host, drops
 * those not addressed to it (RFC 1122 3.3.4.2).
 *
 * @param interfaces interfaces 1.. (interface 0 is the {@link StackConfig}'s)
 * @param routes static routes, the default route among them as prefix length 0 (besides
 *     {@link StackConfig#gateway}, which is a default route too when set)
 * @param forwarding whether datagrams for other hosts are forwarded
 */
public record RouterConfig(List<InterfaceConfig> interfaces, List<StaticRoute> routes, boolean forwarding) {
    /** One interface, no static route, no forwarding: a plain endpoint. */
    public static final RouterConfig ENDPOINT = new RouterConfig(List.of(), List.of(), false);

    /** Copies the lists. */
    public RouterConfig {
        interfaces = List.copyOf(interfaces);
        routes = List.copyOf(routes);
    }
}
