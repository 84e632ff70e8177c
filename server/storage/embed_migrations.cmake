# Writes OUTPUT: a C++ source holding every migrations/NNNN_*.sql, in order, so the binary
# carries its own schema and needs no files at run time.
file(GLOB sql_files "${MIGRATIONS_DIR}/[0-9][0-9][0-9][0-9]_*.sql")
list(SORT sql_files)
set(body "")
foreach(path IN LISTS sql_files)
  get_filename_component(name "${path}" NAME)
  string(SUBSTRING "${name}" 0 4 version)
  math(EXPR version "${version}")
  file(READ "${path}" sql)
  string(APPEND body "    {${version}, \"${name}\", R\"seedhook_sql(${sql})seedhook_sql\"},\n")
endforeach()
file(WRITE "${OUTPUT}.tmp"
"// Generated from migrations/ by embed_migrations.cmake; do not edit.\n"
"#include \"server/storage/migrations.hpp\"\n\n"
"namespace seedhook::storage {\n\n"
"const std::vector<Migration>& migrations() {\n"
"    static const std::vector<Migration> all = {\n${body}    };\n"
"    return all;\n}\n\n}  // namespace seedhook::storage\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
