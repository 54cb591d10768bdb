# lmscope — one plain Makefile.
#
#   make              build ./lmscope (OpenMP; AVX-512 kernels chosen at run time where the CPU has them)
#   make test         check prerequisites, build, run every test (unit, kernel, gradient, PyTorch, CLI)
#   make demo         the main job on the embedded corpus
#   make bench        throughput benchmarks (not tests); make bench-products: the bf16 products alone
#   make asan         build and test under AddressSanitizer + UBSan (in build-asan/)
#   make fuzz         build libFuzzer targets (clang) into build-fuzz/; FUZZ_TIME=600 make fuzz-run
#   make deps         install/check the Debian packages the build needs
#   make corpus       unpack the committed small corpus into data/corpus/ (corpus-full: rebuild the full one)
#
# Toggles: BUILD=dir (object directory), ISA=generic (no AVX-512 code at all), DEBUG=1 (-O0),
# CUDA=1 (the CUDA kernel table in src/kernels/cuda/, built with nvcc for sm_90 + PTX into
# build-cuda/ by default; needs the CUDA toolkit with cuBLAS; CUDA_HOME=/usr/local/cuda).
#   make CUDA=1 cuda-tests   the device tests (tests/cuda/), run by tools/gpu_check.sh
# MPI=1/0 (data-parallel training and sweeps over Open MPI; default 1 when mpicc is on the PATH;
# src/dist/ is the only code that sees MPI).

CC      ?= cc
CUDA    ?= 0
BUILD   ?= $(if $(filter 0,$(CUDA)),build,build-cuda)
ISA     ?= auto
DEBUG   ?= 0
MPI     ?= $(if $(shell command -v mpicc 2>/dev/null),1,0)

OPT      := $(if $(filter 1,$(DEBUG)),-O0,-O2)
CFLAGS   ?=
CFLAGS   += -std=gnu11 $(OPT) -g -Wall -Wextra -Wshadow -Wno-unused-parameter -fopenmp \
            -fno-strict-aliasing -Isrc -MMD -MP
LDLIBS   += -lsqlite3 -lgsl -lopenblas -lpcre2-8 -ljansson -lmicrohttpd -lcrypto -lm -fopenmp
ISAFLAGS_avx512 := -O3 -mavx512f -mavx512bw -mavx512dq -mavx512vl -mfma -mavx2
ISAFLAGS_avx2   := -O3 -mavx2 -mfma
# AVX512-BF16 (vdpbf16ps) for the bf16 product only, and only where the compiler knows the flag
ISAFLAGS_bf16   := $(shell $(CC) -mavx512bf16 -E -x c /dev/null >/dev/null 2>&1 && echo -mavx512bf16 || echo -DLMS_NO_BF16)

ifeq ($(ISA),generic)
  CFLAGS += -DLMS_NO_SIMD
endif
CU_OBJ   :=
ifneq ($(CUDA),0)
  CUDA_HOME ?= /usr/local/cuda
  NVCC     ?= $(CUDA_HOME)/bin/nvcc
  CFLAGS   += -DLMS_CUDA
  NVFLAGS  := -std=c++17 $(OPT) -g -DLMS_CUDA -Isrc -MMD -MP -Xcompiler -Wall,-Wextra,-Wno-unused-parameter \
              -gencode arch=compute_90,code=sm_90 -gencode arch=compute_90,code=compute_90
  LDLIBS   += -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublasLt -lcublas -lcudart -lstdc++
  CU_OBJ   := $(patsubst %.cu,$(BUILD)/%.o,$(sort $(wildcard src/kernels/cuda/*.cu)))
endif
ifeq ($(SAN),1)
  CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer
  LDFLAGS += -fsanitize=address,undefined
endif

LIB_SRC  := $(sort $(wildcard src/core/*.c src/kernels/*.c src/model/*.c src/optim/*.c \
              src/tokenizer/*.c src/data/*.c src/train/*.c src/eval/*.c src/scaling/*.c src/report/*.c \
              src/serve/*.c))
# MPI: only src/dist/dist_mpi.c includes mpi.h; without MPI, dist_single.c stands in for it.
# A stamp per setting relinks everything when MPI changes.
ifeq ($(MPI),1)
  LIB_SRC += src/dist/dist_mpi.c
  LDLIBS  += $(shell mpicc -showme:link)
  $(BUILD)/src/dist/dist_mpi.o: CFLAGS += $(shell mpicc -showme:compile)
else
  LIB_SRC += src/dist/dist_single.c
endif
MPI_STAMP := $(BUILD)/.mpi-$(MPI)
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(CU_OBJ)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)
LIB      := $(BUILD)/liblmscope.a

.PHONY: all test demo bench bench-products asan fuzz fuzz-run deps deps-test clean corpus corpus-full cuda-tests
all: $(BUILD)/lmscope $(if $(filter build,$(BUILD)),lmscope)

lmscope: $(BUILD)/lmscope
	ln -sf $(BUILD)/lmscope lmscope

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(if $(findstring _avx512,$*),$(ISAFLAGS_avx512))$(if $(findstring _avx2,$*),$(ISAFLAGS_avx2))$(if $(findstring gemm_bf16_,$*), $(ISAFLAGS_bf16)) -c $< -o $@

$(BUILD)/%.o: %.cu
	@mkdir -p $(dir $@)
	$(NVCC) $(NVFLAGS) -c $< -o $@

$(MPI_STAMP):
	@mkdir -p $(BUILD) && rm -f $(BUILD)/.mpi-* && touch $@

$(LIB): $(LIB_OBJ) $(MPI_STAMP)
	@rm -f $@
	ar rcs $@ $(LIB_OBJ)

$(BUILD)/lmscope: $(CLI_OBJ) $(LIB)
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(LIB) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(LIB) tests/harness.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

deps:
	@tools/deps.sh

# make test also brings node + npm (where there is no node) and the OpenAI client of tests/cli/serve.sh
deps-test:
	@tools/deps.sh --test

CUDA_TEST_BIN := $(patsubst tests/cuda/%.c,$(BUILD)/tests/cuda/%,$(sort $(wildcard tests/cuda/test_*.c)))
cuda-tests: $(CUDA_TEST_BIN)
$(BUILD)/tests/cuda/%: tests/cuda/%.c $(LIB) tests/harness.h
	@$(if $(filter 0,$(CUDA)),echo "cuda-tests needs CUDA=1" && exit 1)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

test: deps-test all $(TEST_BIN)
	@BUILD=$(BUILD) tools/run_tests.sh $(TEST_BIN)

asan:
	$(MAKE) BUILD=build-asan SAN=1 test

demo: deps all
	@tools/demo.sh

bench: deps all corpus $(BUILD)/bench-products
	@tools/deps.sh --bench
	@bench/run.sh
	@BUILD=$(BUILD) bench/gemm/run.sh
	@bench/tokenizer/run.sh
	@bench/tokenizer/train.sh

# the weight products of one training step, fp32 (OpenBLAS) against bf16, one by one
bench-products: $(BUILD)/bench-products
	@BUILD=$(BUILD) bench/gemm/run.sh
$(BUILD)/bench-products: bench/gemm/products.c $(LIB)
	$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDFLAGS) $(LDLIBS)

FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build-fuzz/%)
fuzz: $(FUZZ_BIN)
FUZZ_LIB := $(filter-out src/dist/%,$(LIB_SRC)) src/dist/dist_single.c
build-fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	@mkdir -p build-fuzz
	clang -std=gnu11 -O1 -g -fsanitize=fuzzer,address,undefined -fopenmp -DLMS_NO_SIMD -Isrc -o $@ $< $(FUZZ_LIB) \
	    -lsqlite3 -lgsl -lopenblas -lpcre2-8 -ljansson -lmicrohttpd -lcrypto -lm
FUZZ_TIME ?= 600
fuzz-run: fuzz
	@for f in $(FUZZ_BIN); do mkdir -p build-fuzz/corpus-$$(basename $$f); \
	  $$f -max_total_time=$(FUZZ_TIME) build-fuzz/corpus-$$(basename $$f) tests/fuzz/seeds/$$(basename $$f) || exit 1; done

corpus:
	@tools/corpus/unpack.sh

corpus-full:
	tools/corpus/build.sh full

clean:
	rm -rf build build-asan build-fuzz build-cuda lmscope

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:=.d) $(CUDA_TEST_BIN:=.d)
