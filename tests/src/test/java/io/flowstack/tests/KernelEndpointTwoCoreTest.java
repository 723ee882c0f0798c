package io.flowstack.tests;

/** {@link KernelEndpointCases} with two netisr cores and a two-queue TAP. */
class KernelEndpointTwoCoreTest extends KernelEndpointCases {
    @Override
    int cores() {
        return 2;
    }
}
