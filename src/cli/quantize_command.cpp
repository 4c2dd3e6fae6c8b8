#include "cli/quantize_command.h"

#include <fmt/format.h>

#include <chrono>
#include <memory>

#include "cli/progress_bar.h"
#include "model/model_quantizer.h"
#include "platform/cpu_topology.h"

namespace locara::cli {
namespace {

double mib(uint64_t bytes) {
  return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

}  // namespace

Command add_quantize_command(CLI::App& app) {
  auto options = std::make_shared<QuantizeCommandOptions>();
  QuantizeCommandOptions& o = *options;
  CLI::App* quantize = app.add_subcommand(
      "quantize", "Convert a GGUF model to another file type (tensor types as llama-quantize)");
  quantize->add_option("input", o.input_path, "GGUF model to read")->required();
  quantize->add_option("output", o.output_path, "GGUF file to write")->required();
  quantize->add_option("type", o.type, "File type: " + file_type_names())->required();
  quantize->add_flag("--pure", o.pure, "Every weight in the type's default type (no mixture)");
  quantize->add_flag("--allow-requantize", o.allow_requantize,
                     "Accept already-quantized weights (loses quality)");
  quantize->add_flag("--repack", o.repack,
                     "Accepted for llama.cpp users and refused: no repacked file is needed, "
                     "since prompt processing interleaves each tile of weight rows in scratch "
                     "on the fly, reading the mmapped file once per batch");
  quantize->add_option("-t,--threads", o.threads, "Threads (default: physical cores)");
  quantize->add_flag("-v,--verbose", o.verbose, "List every tensor's type and size");
  return {quantize, [options] { return quantize_command(*options); }};
}

int quantize_command(const QuantizeCommandOptions& o) {
  const auto file_type = file_type_from_name(o.type);
  if (!file_type) {
    fmt::print(stderr, "locara: error: unknown type '{}' (one of: {})\n", o.type,
               file_type_names());
    return 1;
  }
  if (o.repack) {
    fmt::print(stderr,
               "locara: error: --repack: no repacked file is needed; Locara's prompt "
               "kernels interleave each tile of weight rows in scratch as they go, so the "
               "original file, left mmapped, runs at full speed\n");
    return 1;
  }
  QuantizeOptions options;
  options.file_type = *file_type;
  options.pure = o.pure;
  options.allow_requantize = o.allow_requantize;
  options.n_threads = o.threads > 0 ? o.threads : physical_performance_cores();
  ProgressBar bar("quantize");
  options.on_progress = [&](const TensorProgress& p) {
    bar.update(p.bytes_total ? double(p.bytes_done) / double(p.bytes_total) : 1.0,
               fmt::format("{}/{} {} -> {}", p.tensor_index + 1, p.n_tensors, p.name,
                           tensor_type_name(p.type)));
  };
  const auto start = std::chrono::steady_clock::now();
  auto report = quantize_model(o.input_path, o.output_path, options);
  bar.finish();
  if (!report) {
    fmt::print(stderr, "locara: error: {}\n", report.error().message);
    return 1;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (o.verbose) {
    for (const QuantizedTensor& t : report->tensors) {
      fmt::print(stderr, "{:<36} {:>7} -> {:<7} {:9.2f} MiB -> {:9.2f} MiB{}\n", t.name,
                 tensor_type_name(t.from), tensor_type_name(t.to), mib(t.bytes_before),
                 mib(t.bytes_after), t.fell_back ? " (fallback: row length)" : "");
    }
  }
  uint64_t n_parameters = 0;
  for (const QuantizedTensor& t : report->tensors) {
    if (t.to == TensorType::kF32) {
      n_parameters += t.bytes_after / 4;
    } else {
      const TensorTypeInfo& info = tensor_type_info(t.to);
      n_parameters += t.bytes_after / info.type_size * static_cast<uint64_t>(info.block_size);
    }
  }
  const double bpw = n_parameters ? 8.0 * double(report->bytes_after) / double(n_parameters) : 0;
  fmt::print(stderr,
             "quantize: {} -> {} ({}): {:.2f} MiB -> {:.2f} MiB ({:.2f} bits per weight), "
             "{} tensors, {} row-length fallbacks, {:.1f} s with {} threads\n",
             o.input_path, o.output_path, file_type_info(*file_type).description,
             mib(report->bytes_before), mib(report->bytes_after), bpw, report->tensors.size(),
             report->n_fallbacks, seconds, options.n_threads);
  return 0;
}

}  // namespace locara::cli
