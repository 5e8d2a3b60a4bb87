// Shared between the TensorFlow side (engine_op.cc) and the JNI side (java_bridge.cc) of the
// TftrtEngine op.
#ifndef TFTRT_ENGINE_H_
#define TFTRT_ENGINE_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tftrt/tf_c_api.h"

namespace tftrt {

// One kernel instance: TensorFlow creates one per engine node per session (graph executor) and
// may call Compute on it from several threads at once, so it is immutable after construction.
struct OrtRunner;

struct Kernel {
  std::string name;                        // the node's name, for error messages
  std::vector<TF_DataType> output_types;   // attr Tout
  int slot = -1;                           // the Java side's slot for this node (see EngineBridge)

  // The backend's native runner (ort_runner.h), asked for on the first call and kept: the only
  // state set after construction, once, under runner_mu (runner_state: 0 not asked, 1 none,
  // 2 runner set).
  mutable std::mutex runner_mu;
  mutable std::atomic<int> runner_state{0};
  mutable std::shared_ptr<OrtRunner> runner;
};

// One Compute (or one construction, with ctx null). Lives on the calling thread's stack; Java
// gets its address as a handle that is only valid while Java is being called.
struct Call {
  const Kernel* kernel = nullptr;
  TF_OpKernelContext* ctx = nullptr;
  std::vector<TF_Tensor*> inputs;   // owned: TF_GetInput hands out new TF_Tensor wrappers
  std::vector<TF_Tensor*> outputs;  // owned: set by nativeAllocateOutput, null until then
  TF_Code code = TF_OK;             // set by Java through nativeFail (first failure wins)
  std::string message;

  void Fail(TF_Code c, std::string m) {
    if (code == TF_OK) {
      code = c;
      message = std::move(m);
    }
  }
};

// java_bridge.cc. Each sets call->code / call->message on failure and never throws.

// Hands the node's serialized NodeDef to Java, which parses and checks its attributes and
// returns a slot number (>= 0) under which the node's backend is found on every call.
int BindKernel(const void* node_def, size_t length, Call* call);

// Calls the node's Java backend with call->inputs; Java allocates the outputs through
// nativeAllocateOutput (into call->outputs) and writes them in place.
void InvokeKernel(Call* call);

// Asks Java for the handle of the node's backend's native runner: > 0 a handle, 0 none, < 0
// not known yet (the backend could not be made; ask on the next call).
long long NativeRunnerHandle(const Kernel* kernel);

// Tells Java that the kernel is gone, so the slot (and any backend it created) is released.
void ReleaseKernel(int slot);

}  // namespace tftrt

#endif  // TFTRT_ENGINE_H_
