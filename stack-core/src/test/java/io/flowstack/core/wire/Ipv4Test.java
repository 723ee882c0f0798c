package io.flowstack.core.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The conversions between the int form of IPv4 addresses and {@link InetAddress}. */
class Ipv4Test {
    @Test
    void inetAddressToIntIsNetworkOrder() throws Exception {
        assertEquals(0xC6120001, Ipv4.of(InetAddress.getByName("198.18.0.1")));
        assertEquals(0, Ipv4.of(InetAddress.getByName("0.0.0.0")));
        assertEquals(0xFFFFFFFF, Ipv4.of(InetAddress.getByName("255.255.255.255")));
        assertEquals(0x7F000001, Ipv4.of(InetAddress.getByAddress(new byte[] {127, 0, 0, 1})));
    }

    @Test
    void roundTripsEveryKindOfAddress() {
        SplittableRandom r = new SplittableRandom(9);
        int[] fixed = {0, 1, 0x7F000001, 0x80000000, 0xC6120001, 0xFFFFFFFF};
        for (int i = 0; i < 10_000; i++) {
            int a = i < fixed.length ? fixed[i] : r.nextInt();
            InetAddress ia = Ipv4.toInetAddress(a);
            assertInstanceOf(Inet4Address.class, ia);
            assertEquals(Ipv4.toString(a), ia.getHostAddress());
            assertEquals(a, Ipv4.of(ia));
            InetSocketAddress sa = Ipv4.toSocketAddress(a, i & 0xFFFF);
            assertEquals(a, Ipv4.of(sa));
            assertEquals(i & 0xFFFF, sa.getPort());
        }
    }

    @Test
    void toInetAddressDoesNoNameLookup() {
        InetAddress a = Ipv4.toInetAddress(Ipv4.parse("198.18.0.2"));
        // getByAddress without a host name: toString shows "/198.18.0.2", no name was looked up
        assertEquals("/198.18.0.2", a.toString());
    }

    @Test
    void ipv6IsRefusedWithAClearMessage() throws Exception {
        InetAddress v6 = InetAddress.getByName("2001:db8::1");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ipv4.of(v6));
        assertTrue(e.getMessage().startsWith("IPv4 only: 2001:db8:0:0:0:0:0:1"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Ipv4.of(new InetSocketAddress(v6, 80)));
        assertTrue(e.getMessage().startsWith("IPv4 only: "), e.getMessage());
        // an IPv4-mapped address in text is IPv4 to Java already (Inet4Address)
        assertEquals(Ipv4.parse("198.18.0.1"), Ipv4.of(InetAddress.getByName("::ffff:198.18.0.1")));
    }

    @Test
    void unresolvedAndNullAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ipv4.of(InetSocketAddress.createUnresolved("example.invalid", 80)));
        assertTrue(e.getMessage().startsWith("unresolved address example.invalid:80"), e.getMessage());
        assertThrows(NullPointerException.class, () -> Ipv4.of((InetAddress) null));
        assertThrows(NullPointerException.class, () -> Ipv4.of((InetSocketAddress) null));
    }

    @Test
    void prefixLengthOfANetmask() {
        for (int len = 0; len <= 32; len++) {
            assertEquals(len, Ipv4.prefixLength(Ipv4.mask(len)));
        }
        assertEquals(24, Ipv4.prefixLength(Ipv4.parse("255.255.255.0")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ipv4.prefixLength(Ipv4.parse("255.0.255.0")));
        assertTrue(e.getMessage().contains("255.0.255.0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ipv4.prefixLength(Ipv4.parse("0.0.0.255")));
    }
}
