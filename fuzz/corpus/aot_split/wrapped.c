static u32 w2c_f1(void* instance,
    u32 w2c_p0) {
}
