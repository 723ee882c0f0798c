package io.flowstack.tests;

/** {@link MalformedFrameCases} with two netisr cores and a two-queue TAP. */
class MalformedFramesTwoCoreTest extends MalformedFrameCases {
    @Override
    int cores() {
        return 2;
    }
}
