/**
 * The router's per-core route table (issue 12): longest-prefix match of IPv4 destinations in a
 * DIR-16-8-8 multibit trie ({@link io.flowstack.core.route.RouteTable}), the rules it is built
 * from ({@link io.flowstack.core.route.RouteRules}), the next hops its answers index
 * ({@link io.flowstack.core.route.NextHops}), both together as one core's replica
 * ({@link io.flowstack.core.route.Fib}), and the static martian-address checks of RFC 1812 5.3.7
 * ({@link io.flowstack.core.route.Martians}).
 *
 * <p>Layer: right after {@code core.flow}; it uses only {@code core.wire} (address formatting).
 * Every stateful class here is owned by one thread (a core's netisr, for its replica): a route
 * change reaches every core as a message that each core applies to its own replica
 * (docs/ROUTER.md, "Route lookup"). There is no lock anywhere, and lookups allocate nothing.
 */
package io.flowstack.core.route;
