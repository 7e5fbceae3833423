// `intraday generate`: placeholder until its subsystem lands.
#include "cli/commands.h"

namespace intraday::cli {

CommandRunner AddGenerateCommand(CLI::App& app) {
  app.add_subcommand("generate", "(generate: not available yet)");
  return [] { return Status::NotImplemented("'generate' is not available in this build yet"); };
}

}  // namespace intraday::cli
