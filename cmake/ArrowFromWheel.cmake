# Arrow C++ and Parquet from the pinned pyarrow wheel in the project's virtual environment.
# Defines imported targets arrow::arrow, arrow::parquet, arrow::compute, arrow::s3 and puts the
# wheel's directory in the RUNPATH of everything that links them (no LD_LIBRARY_PATH needed).
find_package(Python3 REQUIRED COMPONENTS Interpreter)
execute_process(
  COMMAND "${Python3_EXECUTABLE}" -c
          "import pyarrow; print(pyarrow.get_include()); print(pyarrow.get_library_dirs()[0]); print(pyarrow.__version__)"
  OUTPUT_VARIABLE _pa_out
  RESULT_VARIABLE _pa_rc
  OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _pa_rc EQUAL 0)
  message(FATAL_ERROR "pyarrow is not importable by ${Python3_EXECUTABLE}; run scripts/setup.sh")
endif()
string(REPLACE "\n" ";" _pa_lines "${_pa_out}")
list(GET _pa_lines 0 PYARROW_INCLUDE_DIR)
list(GET _pa_lines 1 PYARROW_LIBRARY_DIR)
list(GET _pa_lines 2 PYARROW_VERSION)
string(REGEX MATCH "^[0-9]+" _pa_major "${PYARROW_VERSION}")
set(_so_suffix ".so.${_pa_major}00")
message(STATUS "Arrow C++ from pyarrow ${PYARROW_VERSION}: ${PYARROW_LIBRARY_DIR}")

function(_intraday_arrow_lib target file)
  set(_path "${PYARROW_LIBRARY_DIR}/${file}${_so_suffix}")
  if(NOT EXISTS "${_path}")
    message(FATAL_ERROR "missing ${_path}: wrong pyarrow wheel?")
  endif()
  add_library(${target} SHARED IMPORTED GLOBAL)
  set_target_properties(${target} PROPERTIES
    IMPORTED_LOCATION "${_path}"
    IMPORTED_NO_SONAME FALSE
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${PYARROW_INCLUDE_DIR}"
    INTERFACE_INCLUDE_DIRECTORIES "${PYARROW_INCLUDE_DIR}")
endfunction()

_intraday_arrow_lib(arrow::arrow libarrow)
_intraday_arrow_lib(arrow::parquet libparquet)
_intraday_arrow_lib(arrow::compute libarrow_compute)
_intraday_arrow_lib(arrow::s3 libarrow_s3)
set_property(TARGET arrow::parquet PROPERTY INTERFACE_LINK_LIBRARIES arrow::arrow)
set_property(TARGET arrow::compute PROPERTY INTERFACE_LINK_LIBRARIES arrow::arrow)
set_property(TARGET arrow::s3 PROPERTY INTERFACE_LINK_LIBRARIES arrow::arrow)

set(CMAKE_BUILD_RPATH "${PYARROW_LIBRARY_DIR}")
set(CMAKE_INSTALL_RPATH "${PYARROW_LIBRARY_DIR}")
