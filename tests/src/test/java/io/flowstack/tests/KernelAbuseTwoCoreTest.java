package io.flowstack.tests;

/** {@link KernelAbuseCases} on a two-core stack (two TAP queues). */
class KernelAbuseTwoCoreTest extends KernelAbuseCases {
    @Override
    int cores() {
        return 2;
    }
}
