/* SPDX-License-Identifier: MIT */
/*
 * sal.h - Microsoft source-code annotations (SAL 2), as empty macros.
 *
 * [STUBBED] Every annotation expands to nothing: the shim's compilers (gcc, clang) do not
 * run the static analyser these annotations feed. IRQL and lock annotations for drivers
 * live in driverspecs.h. This header is not the place for checks; the shim checks the
 * corresponding contracts at run time (IRQL, lock ownership, pool tags).
 * Deviation: none that changes code generation; annotations are accepted and ignored.
 * Includes nothing, so it is safe under kshim/banned.h.
 */
#pragma once

/* ---- parameters ------------------------------------------------------------------------ */
#define _In_
#define _In_opt_
#define _In_z_
#define _In_opt_z_
#define _In_reads_(size)
#define _In_reads_opt_(size)
#define _In_reads_bytes_(size)
#define _In_reads_bytes_opt_(size)
#define _In_reads_z_(size)
#define _In_reads_or_z_(size)
#define _In_range_(lo, hi)
#define _Out_
#define _Out_opt_
#define _Out_writes_(size)
#define _Out_writes_opt_(size)
#define _Out_writes_bytes_(size)
#define _Out_writes_bytes_opt_(size)
#define _Out_writes_bytes_all_(size)
#define _Out_writes_bytes_all_opt_(size)
#define _Out_writes_all_(size)
#define _Out_writes_to_(size, count)
#define _Out_writes_bytes_to_(size, count)
#define _Out_writes_z_(size)
#define _Out_range_(lo, hi)
#define _Inout_
#define _Inout_opt_
#define _Inout_z_
#define _Inout_updates_(size)
#define _Inout_updates_opt_(size)
#define _Inout_updates_bytes_(size)
#define _Inout_updates_bytes_opt_(size)
#define _Outptr_
#define _Outptr_opt_
#define _Outptr_result_maybenull_
#define _Outptr_opt_result_maybenull_
#define _Outptr_result_nullonfailure_
#define _Outptr_result_buffer_(size)
#define _Outptr_result_bytebuffer_(size)
#define _Outptr_result_z_
#define _COM_Outptr_
#define _Deref_out_
#define _Deref_out_opt_
#define _Deref_out_range_(lo, hi)
#define _Deref_pre_maybenull_
#define _Deref_post_maybenull_
#define _Reserved_
#define _Frees_ptr_
#define _Frees_ptr_opt_
#define _Printf_format_string_
#define _Printf_format_string_params_(n)
#define _Scanf_format_string_
#define _Literal_
#define _Notliteral_

/* ---- return values and results --------------------------------------------------------- */
#define _Must_inspect_result_
#define _Check_return_
#define _Success_(expr)
#define _Return_type_success_(expr)
#define _Ret_maybenull_
#define _Ret_notnull_
#define _Ret_z_
#define _Ret_range_(lo, hi)
#define _Ret_writes_(size)
#define _Ret_writes_bytes_(size)
#define _Ret_writes_maybenull_(size)
#define _Ret_writes_bytes_maybenull_(size)
#define _Result_nullonfailure_
#define _Result_zeroonfailure_
#define _Post_writable_byte_size_(size)
#define _Post_readable_byte_size_(size)
#define _Post_maybenull_
#define _Post_notnull_
#define _Post_null_
#define _Post_valid_
#define _Post_invalid_
#define _Post_ptr_invalid_
#define _Post_z_
#define _Post_satisfies_(expr)
#define _Post_equal_to_(expr)
#define _Pre_satisfies_(expr)
#define _Pre_notnull_
#define _Pre_maybenull_
#define _Pre_null_
#define _Pre_valid_
#define _Pre_invalid_
#define _Pre_z_
#define _Pre_defensive_
#define _Post_defensive_
#define _Unchanged_(expr)

/* ---- general modifiers ----------------------------------------------------------------- */
#define _Use_decl_annotations_
#define _When_(cond, annotations)
#define _At_(target, annotations)
#define _At_buffer_(target, iter, bound, annotations)
#define _Always_(annotations)
#define _On_failure_(annotations)
#define _Analysis_assume_(expr)
#define _Analysis_noreturn_
#define _Analysis_mode_(mode)
#define _Null_terminated_
#define _NullNull_terminated_
#define _Null_
#define _Notnull_
#define _Maybenull_
#define _Valid_
#define _Const_
#define _Points_to_data_
#define _Readable_bytes_(size)
#define _Writable_bytes_(size)
#define _Readable_elements_(size)
#define _Writable_elements_(size)
#define _Field_size_(size)
#define _Field_size_opt_(size)
#define _Field_size_bytes_(size)
#define _Field_size_bytes_opt_(size)
#define _Field_size_part_(size, count)
#define _Field_size_bytes_part_(size, count)
#define _Field_range_(lo, hi)
#define _Field_z_
#define _Struct_size_bytes_(size)
#define _Strict_type_match_
#define _Interlocked_
#define _Interlocked_operand_
#define _Guarded_by_(lock)
#define _Write_guarded_by_(lock)
#define _Has_lock_kind_(kind)
#define _Has_lock_level_(level)
#define _Lock_level_order_(a, b)
#define _Benign_race_begin_
#define _Benign_race_end_
#define _No_competing_thread_
#define _No_competing_thread_begin_
#define _No_competing_thread_end_

/* ---- locks ----------------------------------------------------------------------------- */
#define _Acquires_lock_(lock)
#define _Releases_lock_(lock)
#define _Acquires_exclusive_lock_(lock)
#define _Acquires_shared_lock_(lock)
#define _Releases_exclusive_lock_(lock)
#define _Releases_shared_lock_(lock)
#define _Acquires_nonreentrant_lock_(lock)
#define _Releases_nonreentrant_lock_(lock)
#define _Requires_lock_held_(lock)
#define _Requires_lock_not_held_(lock)
#define _Requires_exclusive_lock_held_(lock)
#define _Requires_shared_lock_held_(lock)
#define _Requires_no_locks_held_
#define _Post_same_lock_(a, b)
#define _Create_lock_level_(level)
