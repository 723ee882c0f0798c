package io.flowstack.core;

import io.flowstack.nic.Nic;
import io.flowstack.nic.Toeplitz;
import java.security.SecureRandom;
import java.util.List;

/**
 * The stack's RSS key (issue 13 point 9): the one its NICs' steering programs hash with, so the
 * software flow hash agrees with the kernel's steering (a flow's frames arrive on its owner's
 * queue); one chosen at random when no NIC steers by a key (a memory wire, a test NIC). Never a
 * fixed key: an off-path host must not be able to tell which core a tuple lands on.
 *
 * <p>Owned by: nobody (stateless; called once, by the thread creating the stack).
 */
final class RssKeys {
    private RssKeys() {
    }

    /**
     * The key of {@code nics}.
     *
     * @throws IllegalArgumentException if two NICs steer with different keys (no flow hash could
     *     agree with both)
     */
    static Toeplitz of(List<? extends Nic> nics) {
        Toeplitz key = null;
        for (Nic nic : nics) {
            Toeplitz k = nic.rssKey();
            if (k != null && key != null && !k.equals(key)) {
                throw new IllegalArgumentException("the NICs steer with different RSS keys (" + nics.get(0).name()
                        + ", " + nic.name() + "): open them with one key");
            }
            key = k != null ? k : key;
        }
        return key != null ? key : Toeplitz.random(new SecureRandom());
    }
}
