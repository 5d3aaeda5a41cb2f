typedef unsigned u32;
static u32 func_types[1];
static u32 w2c_f1(void*);
static u32 w2c_f1(void* instance) {
  return 1;
}
u32 e(void* i) {
  return w2c_f1(i);
}
