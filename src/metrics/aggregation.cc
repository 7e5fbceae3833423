#include "metrics/aggregation.h"

#include <arrow/builder.h>

namespace intraday {
namespace {

template <typename ArrayType, typename BuilderType, typename T>
Result<std::shared_ptr<arrow::Array>> ReduceTyped(const arrow::Array& values, const Runs& runs,
                                                  AggregateFunction function) {
  const auto& typed = static_cast<const ArrayType&>(values);
  BuilderType builder;
  INTRADAY_RETURN_NOT_OK(builder.Reserve(static_cast<int64_t>(runs.size())));
  for (size_t r = 0; r < runs.size(); ++r) {
    std::optional<T> acc;
    for (size_t k = runs.begin(r); k < runs.end(r); ++k) {
      const int64_t row = runs.order[k];
      if (typed.IsNull(row)) continue;
      const T v = typed.Value(row);
      if (!acc) {
        acc = v;
        continue;
      }
      switch (function) {
        case AggregateFunction::kSum: *acc += v; break;
        case AggregateFunction::kLast: *acc = v; break;
        case AggregateFunction::kMin: *acc = std::min(*acc, v); break;
        case AggregateFunction::kMax: *acc = std::max(*acc, v); break;
        default: break;  // kFirst keeps the first
      }
    }
    if (acc) {
      INTRADAY_RETURN_NOT_OK(builder.Append(*acc));
    } else {
      INTRADAY_RETURN_NOT_OK(builder.AppendNull());
    }
  }
  std::shared_ptr<arrow::Array> out;
  INTRADAY_RETURN_NOT_OK(builder.Finish(&out));
  return out;
}

Result<std::shared_ptr<arrow::Array>> ReduceStrings(const arrow::StringArray& values, const Runs& runs,
                                                    AggregateFunction function) {
  arrow::StringBuilder builder;
  for (size_t r = 0; r < runs.size(); ++r) {
    std::optional<std::string_view> pick;
    for (size_t k = runs.begin(r); k < runs.end(r); ++k) {
      const int64_t row = runs.order[k];
      if (values.IsNull(row)) continue;
      if (!pick || function == AggregateFunction::kLast) pick = values.GetView(row);
      if (function == AggregateFunction::kFirst) break;
    }
    if (pick) {
      INTRADAY_RETURN_NOT_OK(builder.Append(*pick));
    } else {
      INTRADAY_RETURN_NOT_OK(builder.AppendNull());
    }
  }
  std::shared_ptr<arrow::Array> out;
  INTRADAY_RETURN_NOT_OK(builder.Finish(&out));
  return out;
}

}  // namespace

std::string_view ToString(AggregateFunction function) {
  return kAggregateFunctionNames[static_cast<size_t>(function)];
}

Result<std::shared_ptr<arrow::DataType>> AggregateType(AggregateFunction function,
                                                       const std::shared_ptr<arrow::DataType>& input) {
  const bool numeric = input->id() == arrow::Type::INT64 || input->id() == arrow::Type::DOUBLE;
  const bool text = input->id() == arrow::Type::STRING;
  if (!numeric && !text)
    return Status::Invalid("columns of type ", input->ToString(), " cannot be aggregated");
  switch (function) {
    case AggregateFunction::kCount: return arrow::int64();
    case AggregateFunction::kFirst:
    case AggregateFunction::kLast: return input;
    case AggregateFunction::kMin:
    case AggregateFunction::kMax:
    case AggregateFunction::kSum:
      if (!numeric)
        return Status::Invalid(ToString(function), " needs a numeric column, not a string column");
      return input;
    case AggregateFunction::kMean:
    case AggregateFunction::kWeightedMean:
      if (!numeric)
        return Status::Invalid(ToString(function), " needs a numeric column, not a string column");
      return arrow::float64();
  }
  return Status::Invalid("unknown aggregate function");
}

Result<std::vector<std::optional<double>>> AsOptionalDoubles(const arrow::Array& values) {
  std::vector<std::optional<double>> out(static_cast<size_t>(values.length()));
  if (values.type_id() == arrow::Type::DOUBLE) {
    const auto& a = static_cast<const arrow::DoubleArray&>(values);
    for (int64_t i = 0; i < a.length(); ++i)
      if (a.IsValid(i)) out[static_cast<size_t>(i)] = a.Value(i);
  } else if (values.type_id() == arrow::Type::INT64) {
    const auto& a = static_cast<const arrow::Int64Array&>(values);
    for (int64_t i = 0; i < a.length(); ++i)
      if (a.IsValid(i)) out[static_cast<size_t>(i)] = static_cast<double>(a.Value(i));
  } else {
    return Status::Invalid("expected a numeric column, got ", values.type()->ToString());
  }
  return out;
}

Result<std::shared_ptr<arrow::Array>> AggregateRuns(const arrow::Array& values, const Runs& runs,
                                                    AggregateFunction function,
                                                    std::span<const std::optional<double>> weights) {
  INTRADAY_RETURN_NOT_OK(AggregateType(function, values.type()).status());
  if (function == AggregateFunction::kCount) {
    arrow::Int64Builder builder;
    for (size_t r = 0; r < runs.size(); ++r) {
      int64_t n = 0;
      for (size_t k = runs.begin(r); k < runs.end(r); ++k) n += values.IsValid(runs.order[k]) ? 1 : 0;
      INTRADAY_RETURN_NOT_OK(builder.Append(n));
    }
    std::shared_ptr<arrow::Array> out;
    INTRADAY_RETURN_NOT_OK(builder.Finish(&out));
    return out;
  }
  if (function == AggregateFunction::kMean || function == AggregateFunction::kWeightedMean) {
    INTRADAY_ASSIGN_OR_RAISE(auto x, AsOptionalDoubles(values));
    const bool weighted = function == AggregateFunction::kWeightedMean;
    if (weighted && weights.size() != x.size()) return Status::Invalid("weighted_mean without weights");
    arrow::DoubleBuilder builder;
    for (size_t r = 0; r < runs.size(); ++r) {
      double num = 0, den = 0;
      for (size_t k = runs.begin(r); k < runs.end(r); ++k) {
        const auto row = static_cast<size_t>(runs.order[k]);
        if (!x[row]) continue;
        const std::optional<double> w = weighted ? weights[row] : std::optional<double>(1.0);
        if (!w) continue;
        num += *x[row] * *w;
        den += *w;
      }
      if (den != 0) {
        INTRADAY_RETURN_NOT_OK(builder.Append(num / den));
      } else {
        INTRADAY_RETURN_NOT_OK(builder.AppendNull());
      }
    }
    std::shared_ptr<arrow::Array> out;
    INTRADAY_RETURN_NOT_OK(builder.Finish(&out));
    return out;
  }
  switch (values.type_id()) {
    case arrow::Type::INT64:
      return ReduceTyped<arrow::Int64Array, arrow::Int64Builder, int64_t>(values, runs, function);
    case arrow::Type::DOUBLE:
      return ReduceTyped<arrow::DoubleArray, arrow::DoubleBuilder, double>(values, runs, function);
    default: return ReduceStrings(static_cast<const arrow::StringArray&>(values), runs, function);
  }
}

}  // namespace intraday
