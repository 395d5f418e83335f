rule php_request_eval
{
    meta:
        id = "shellward-yara-php-request-eval"
        title = "PHP Evaluates Code From The Request"
        description = "eval, assert, create_function, preg_replace /e or call_user_func given request data, or a request value called as a function: the one-liner web shell and the core of most PHP shells"
        level = "critical"
        attack = "attack.persistence, attack.t1505.003"
        author = "shellward"
    strings:
        $eval = /\b(eval|assert|create_function)\s*\(\s*[^;]{0,80}(\$_(POST|GET|REQUEST|COOKIE|SERVER|FILES)\b|php:\/\/input|getallheaders\s*\(|\$HTTP_RAW_POST_DATA|\$HTTP_(POST|GET)_VARS)/ nocase
        $callback = /\b(call_user_func(_array)?|array_map|register_shutdown_function|register_tick_function)\s*\(\s*\$_(POST|GET|REQUEST|COOKIE)\b/ nocase
        $callback_second = /\b(array_filter|array_walk|array_reduce|usort|uasort|uksort)\s*\(\s*[^,;()]{1,80},\s*\$_(POST|GET|REQUEST|COOKIE)\b/ nocase
        $call = /\$_(POST|GET|REQUEST|COOKIE)\s*\[\s*[^\]]{1,40}\]\s*\(/ nocase
        $preg_e = /preg_replace\s*\(\s*('[\/#~!|@%][^'\n]{0,80}[\/#~!|@%][imsxuadj]*e[imsxuadj]*'|"[\/#~!|@%][^"\n]{0,80}[\/#~!|@%][imsxuadj]*e[imsxuadj]*")\s*,/ nocase
        $var_eval = /\b(eval|assert)\s*\(\s*(\$|["']\s*\.\s*\$|\(\s*\$)/ nocase
        $var_call = /\$([a-z]\w{0,20}|_{1,3})\s*\(\s*\$_(POST|GET|REQUEST|COOKIE)\b/ nocase
        $input = /\$_(POST|GET|REQUEST|COOKIE)\b|php:\/\/input/ nocase
    condition:
        $eval or $callback or $callback_second or $call or $preg_e or $var_call or ($var_eval and $input and filesize < 64KB)
}
