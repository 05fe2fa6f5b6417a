// parley_budget_*: the TTFT budget controller's C entry points (engine: src/budget/).
#include <cmath>
#include <mutex>
#include <string>
#include <vector>

#include "boundary.hpp"
#include "budget/controller.hpp"

using parley::Error;
using parley::Status;
using parley::budget::Controller;
using parley::capi::copy_to_host;
using parley::capi::guard;
using parley::capi::require;

struct parley_budget {
  std::unique_ptr<Controller> engine;
  std::mutex setters;  // guards the fields below against concurrent set_* calls
  // The host's C callbacks; rebuilt into Controller::Callbacks whenever one changes.
  parley_budget_event_cb on_compression = nullptr;
  parley_budget_event_cb on_violation = nullptr;
  void *events_user_data = nullptr;
  parley_budget_embed_cb embed = nullptr;
  void *embed_user_data = nullptr;
  parley_budget_summarize_cb summarize = nullptr;
  void *summarize_user_data = nullptr;
};

namespace {

void install_callbacks(parley_budget &budget) {
  Controller::Callbacks callbacks;
  if (budget.on_compression != nullptr) {
    callbacks.on_compression = [cb = budget.on_compression, data = budget.events_user_data](const std::string &json) {
      cb(json.c_str(), data);
    };
  }
  if (budget.on_violation != nullptr) {
    callbacks.on_violation = [cb = budget.on_violation, data = budget.events_user_data](const std::string &json) {
      cb(json.c_str(), data);
    };
  }
  if (budget.embed != nullptr) {
    callbacks.embed = [cb = budget.embed, data = budget.embed_user_data](const std::string &text) {
      std::vector<float> vector(PARLEY_BUDGET_EMBEDDING_MAX);
      const int written = cb(vector.data(), vector.size(), text.c_str(), data);
      if (written <= 0 || written > PARLEY_BUDGET_EMBEDDING_MAX) return std::vector<float>();
      vector.resize(static_cast<std::size_t>(written));
      for (const float v : vector) {
        if (!std::isfinite(v)) return std::vector<float>();  // a broken embedding is no embedding
      }
      return vector;
    };
  }
  if (budget.summarize != nullptr) {
    callbacks.summarise = [cb = budget.summarize, data = budget.summarize_user_data](std::uint64_t id,
                                                                                     const std::string &json) {
      cb(id, json.c_str(), data);
    };
  }
  budget.engine->set_callbacks(std::move(callbacks));
}

}  // namespace

extern "C" {

PARLEY_API int parley_budget_create(parley_budget **out, const char *config_json) {
  return guard("parley_budget_create", [&] {
    require(out, "out");
    auto budget = std::make_unique<parley_budget>();
    budget->engine = Controller::from_json(config_json);
    *out = budget.release();
  });
}

PARLEY_API void parley_budget_destroy(parley_budget *budget) {
  guard("parley_budget_destroy", [&] { delete budget; });
}

PARLEY_API int parley_budget_prepare(char **out_messages_json, parley_budget *budget, const char *messages_json) {
  return guard("parley_budget_prepare", [&] {
    require(out_messages_json, "out_messages_json");
    require(budget, "budget");
    require(messages_json, "messages_json");
    const std::string result = budget->engine->prepare_json(messages_json);
    *out_messages_json = copy_to_host(result);
  });
}

PARLEY_API int parley_budget_record_ttft(parley_budget *budget, double ttft_ms, int64_t prompt_tokens) {
  return guard("parley_budget_record_ttft", [&] {
    require(budget, "budget");
    budget->engine->record_ttft(ttft_ms, prompt_tokens);
  });
}

PARLEY_API int parley_budget_stats_json(char **out_json, parley_budget *budget) {
  return guard("parley_budget_stats_json", [&] {
    require(out_json, "out_json");
    require(budget, "budget");
    *out_json = copy_to_host(budget->engine->stats_json());
  });
}

PARLEY_API int parley_budget_report(char **out_report, parley_budget *budget, int format) {
  return guard("parley_budget_report", [&] {
    require(out_report, "out_report");
    require(budget, "budget");
    if (format != PARLEY_BUDGET_REPORT_JSON && format != PARLEY_BUDGET_REPORT_TEXT) {
      throw Error(Status::invalid_argument,
                  "format " + std::to_string(format) + " is not a parley_budget_report_format (0 or 1)");
    }
    *out_report = copy_to_host(budget->engine->report(
        format == PARLEY_BUDGET_REPORT_JSON ? parley::budget::ReportFormat::json : parley::budget::ReportFormat::text));
  });
}

PARLEY_API int parley_budget_count_tokens(int64_t *out_count, parley_budget *budget, const char *text) {
  return guard("parley_budget_count_tokens", [&] {
    require(out_count, "out_count");
    require(budget, "budget");
    require(text, "text");
    *out_count = static_cast<int64_t>(budget->engine->count_tokens(text));
  });
}

PARLEY_API int parley_budget_select_model(parley_budget *budget, const char *provider, const char *model) {
  return guard("parley_budget_select_model", [&] {
    require(budget, "budget");
    require(provider, "provider");
    budget->engine->select_model(provider, model != nullptr ? model : "");
  });
}

PARLEY_API int parley_budget_set_callbacks(parley_budget *budget, parley_budget_event_cb on_compression,
                                           parley_budget_event_cb on_violation, void *user_data) {
  return guard("parley_budget_set_callbacks", [&] {
    require(budget, "budget");
    const std::lock_guard lock(budget->setters);
    budget->on_compression = on_compression;
    budget->on_violation = on_violation;
    budget->events_user_data = user_data;
    install_callbacks(*budget);
  });
}

PARLEY_API int parley_budget_set_embedder(parley_budget *budget, parley_budget_embed_cb embed, void *user_data) {
  return guard("parley_budget_set_embedder", [&] {
    require(budget, "budget");
    const std::lock_guard lock(budget->setters);
    budget->embed = embed;
    budget->embed_user_data = user_data;
    install_callbacks(*budget);
  });
}

PARLEY_API int parley_budget_set_summarizer(parley_budget *budget, parley_budget_summarize_cb summarize,
                                            void *user_data) {
  return guard("parley_budget_set_summarizer", [&] {
    require(budget, "budget");
    const std::lock_guard lock(budget->setters);
    budget->summarize = summarize;
    budget->summarize_user_data = user_data;
    install_callbacks(*budget);
  });
}

PARLEY_API int parley_budget_provide_summary(parley_budget *budget, uint64_t request_id, const char *summary) {
  return guard("parley_budget_provide_summary", [&] {
    require(budget, "budget");
    require(summary, "summary");
    if (!budget->engine->provide_summary(request_id, summary)) {
      throw Error(Status::not_found, "parley_budget_provide_summary: no outstanding summary request " +
                                         std::to_string(request_id));
    }
  });
}

}  // extern "C"
