package io.flowstack.tests;

/** {@link KernelAbuseCases} on a one-core stack. */
class KernelAbuseOneCoreTest extends KernelAbuseCases {
    @Override
    int cores() {
        return 1;
    }
}
